import { spawn } from "node:child_process";
import { mkdir, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DaemonStartError } from "./errors.js";

/**
 * The life of every server testenv runs (etcd, kube-apiserver, kube-controller-manager,
 * moto, the Lambda emulator): started detached in a directory of its own, recorded in
 * `<dir>/pids/<name>.pid`, logging to `<dir>/logs/<name>.log`, polled until a readiness
 * probe says yes, stopped with SIGTERM and then SIGKILL.
 *
 * Daemons outlive the command that starts them (`testenv:up` returns), so leftovers are
 * found through their pid files, never by process name, and a pid is trusted only while
 * the process's command line still names the directory (pids are reused). Linux only:
 * the command line is read from /proc.
 */

export interface DaemonOptions {
  /**
   * The directory for its pid file and log, and its working directory. Its command line
   * must name the directory (as an argument, or a flag's value such as
   * `--data-dir=<dir>/etcd`): that is how the process is recognised as ours.
   */
  dir: string;
  /** Names its pid file and its log, and it in errors: `etcd`, `moto`. */
  name: string;
  command: string;
  args: readonly string[];
  /** Its environment, added to PATH and HOME: the only variables it inherits from ours. */
  env?: Record<string, string> | undefined;
  /**
   * Resolves true once it serves. Polled until then; a daemon that exits first fails the
   * start. Without a probe it is ready once it runs.
   */
  ready?: () => Promise<boolean>;
  /** How long it may take to become ready. Default 60 s. */
  timeoutMs?: number;
  /** The pause between probes. Default 100 ms. */
  pollMs?: number;
}

/** A started daemon. */
export interface Daemon {
  readonly name: string;
  readonly dir: string;
  readonly pid: number;
  readonly logFile: string;
  /** Stops it (see {@link stopDaemon}); stopping a stopped daemon does nothing. */
  stop(graceMs?: number): Promise<void>;
}

const pidFile = (dir: string, name: string) => join(dir, "pids", `${name}.pid`);
const logFile = (dir: string, name: string) => join(dir, "logs", `${name}.log`);

/**
 * Starts a daemon and returns once its `ready` probe says so. If it exits first, or is
 * not ready in time, it is stopped and a {@link DaemonStartError} with the last lines of
 * its log is thrown.
 *
 * @example
 * const moto = await startDaemon({
 *   dir, name: "moto", command: python, args: [server, dir, "-p", String(port)],
 *   ready: () => fetch(`http://127.0.0.1:${port}/moto-api/`).then((r) => r.ok, () => false),
 * });
 * await moto.stop();
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { dir, name } = options;
  const running = await runningPid(dir, name);
  if (running !== undefined) {
    throw new Error(`${name} is already running in ${dir} (pid ${running})`);
  }
  const pid = await spawnDaemon(options);
  try {
    await waitUntilReady(options);
  } catch (error) {
    await stopDaemon(dir, name);
    throw error;
  }
  return {
    name,
    dir,
    pid,
    logFile: logFile(dir, name),
    stop: (graceMs) => stopDaemon(dir, name, graceMs),
  };
}

async function spawnDaemon(options: DaemonOptions): Promise<number> {
  const { dir, name } = options;
  await mkdir(join(dir, "pids"), { recursive: true });
  await mkdir(join(dir, "logs"), { recursive: true });
  const log = await open(logFile(dir, name), "a");
  try {
    const child = spawn(options.command, options.args, {
      cwd: dir,
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? dir,
        ...options.env,
      },
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("spawn", () => resolve(child.pid as number));
    });
    child.unref();
    await writeFile(pidFile(dir, name), `${pid}\n`);
    return pid;
  } finally {
    await log.close();
  }
}

async function waitUntilReady(options: DaemonOptions): Promise<void> {
  const { dir, name, ready = async () => true, timeoutMs = 60_000, pollMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const isReady = await ready();
    // Checked after ready(): something else answering on our port is not our process.
    if ((await runningPid(dir, name)) === undefined) {
      throw new DaemonStartError(
        name,
        true,
        `${name} exited while starting:\n${await logTail(dir, name)}`,
      );
    }
    if (isReady) return;
    if (Date.now() >= deadline) {
      throw new DaemonStartError(
        name,
        false,
        `${name} was not ready after ${timeoutMs / 1000}s:\n${await logTail(dir, name)}`,
      );
    }
    await sleep(pollMs);
  }
}

/** Whether `pid` is alive and is one of this directory's processes. */
export async function isOurs(pid: number, dir: string): Promise<boolean> {
  try {
    const args = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    const inside = (path: string) => path === dir || path.startsWith(`${dir}/`);
    // As an argument of its own, or as a flag's value (--data-dir=<dir>/etcd).
    return args.some((arg) => inside(arg) || inside(arg.slice(arg.indexOf("=") + 1)));
  } catch {
    return false;
  }
}

async function readPid(dir: string, name: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(pidFile(dir, name), "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the daemon `name` of this directory, if it is running. */
export async function runningPid(dir: string, name: string): Promise<number | undefined> {
  const pid = await readPid(dir, name);
  return pid !== undefined && (await isOurs(pid, dir)) ? pid : undefined;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Stops a daemon with SIGTERM, then SIGKILL after `graceMs`, and removes its pid file. */
export async function stopDaemon(dir: string, name: string, graceMs = 10_000): Promise<void> {
  const pid = await runningPid(dir, name);
  if (pid !== undefined) {
    signal(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while ((await isOurs(pid, dir)) && Date.now() < deadline) await sleep(50);
    if (await isOurs(pid, dir)) {
      signal(pid, "SIGKILL");
      while (await isOurs(pid, dir)) await sleep(20);
    }
    await exited(pid);
  }
  await rm(pidFile(dir, name), { force: true });
}

/**
 * Waits (up to 5 s) until `pid` has finished exiting. Its command line reads empty as
 * soon as its memory is released, but its files and sockets close after that: a server
 * restarted on the same port in that window fails with "address already in use".
 */
async function exited(pid: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    let state: string | undefined;
    try {
      // "pid (comm) S ...": the state follows the last ")".
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    } catch {
      return;
    }
    if (state === "Z" || state === "X") return;
    await sleep(20);
  }
}

/**
 * Stops every daemon with a pid file in `dir` (a leftover of a crashed run too), in the
 * reverse of `startOrder`; daemons it does not name go last.
 */
export async function stopDaemons(dir: string, startOrder: readonly string[] = []): Promise<void> {
  let names: string[] = [];
  try {
    names = (await readdir(join(dir, "pids"))).map((file) => file.replace(/\.pid$/, ""));
  } catch {
    return;
  }
  names.sort((a, b) => startOrder.indexOf(b) - startOrder.indexOf(a));
  for (const name of names) await stopDaemon(dir, name);
}

/** The last lines of a daemon's log, for error messages. */
async function logTail(dir: string, name: string, lines = 15): Promise<string> {
  try {
    const text = await readFile(logFile(dir, name), "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
