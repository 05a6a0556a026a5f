import { spawn } from "node:child_process";
import { mkdir, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * The control plane's processes outlive the command that starts them (`testenv:up`
 * returns), so each is recorded in a pid file in its environment's directory. Leftovers
 * are found through those files, never by process name, and a pid is trusted only while
 * the process's command line still names that directory (pids are reused). Linux only:
 * the command line is read from /proc.
 */

export interface Daemon {
  name: string;
  pid: number;
  logFile: string;
}

const pidFile = (dir: string, name: string) => join(dir, "pids", `${name}.pid`);
export const logFile = (dir: string, name: string) => join(dir, "logs", `${name}.log`);

export async function startDaemon(
  dir: string,
  name: string,
  binary: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<Daemon> {
  await mkdir(join(dir, "pids"), { recursive: true });
  await mkdir(join(dir, "logs"), { recursive: true });
  const log = await open(logFile(dir, name), "a");
  try {
    const child = spawn(binary, args, {
      cwd: dir,
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? dir,
        ...extraEnv,
      },
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("spawn", () => resolve(child.pid as number));
    });
    child.unref();
    await writeFile(pidFile(dir, name), `${pid}\n`);
    return { name, pid, logFile: logFile(dir, name) };
  } finally {
    await log.close();
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

/** The pid of a running daemon of this directory, if there is one. */
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
  }
  await rm(pidFile(dir, name), { force: true });
}

/** Stops every daemon with a pid file in `dir`, in the reverse of the given start order. */
export async function stopAllDaemons(dir: string, startOrder: readonly string[]): Promise<void> {
  let names: string[] = [];
  try {
    names = (await readdir(join(dir, "pids"))).map((file) => file.replace(/\.pid$/, ""));
  } catch {
    return;
  }
  const rank = (name: string) => {
    const index = startOrder.indexOf(name);
    return index === -1 ? -1 : index;
  };
  names.sort((a, b) => rank(b) - rank(a));
  for (const name of names) await stopDaemon(dir, name);
}

/** The last lines of a daemon's log, for error messages. */
export async function logTail(dir: string, name: string, lines = 15): Promise<string> {
  try {
    const text = await readFile(logFile(dir, name), "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
