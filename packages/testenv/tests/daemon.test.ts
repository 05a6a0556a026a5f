import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DaemonStartError } from "@ondemand-eks/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isOurs, runningPid, startDaemon, stopDaemons } from "../src/daemon.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ondemand-eks-testenv-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * A long-running process whose command line names `marker`, like our daemons'. The
 * trailing `:` keeps a bash /bin/sh from exec'ing sleep, which would drop the marker.
 */
function sleeper(marker: string): number {
  const child = spawn("sh", ["-c", "sleep 60; :", marker], { detached: true, stdio: "ignore" });
  child.unref();
  return child.pid as number;
}

/** `sh -c script <env>`: the environment's directory rides along as `$0`. */
const shell = (env: string, script: string) => ({
  dir: env,
  command: "sh",
  args: ["-c", script, env],
});

/** A readiness probe: the daemon's log says `text` (a script has set its trap, say). */
const logSays = (env: string, name: string, text: string) => () =>
  readFile(join(env, "logs", `${name}.log`), "utf8").then((log) => log.includes(text));

async function environment(name: string): Promise<string> {
  const env = join(dir, name);
  await mkdir(env);
  return env;
}

describe("startDaemon", () => {
  it("starts a daemon, records it in a pid file, and stops it through that file", async () => {
    // Prepare
    const env = await environment("a");
    // Act
    const daemon = await startDaemon({ ...shell(env, "sleep 60; :"), name: "sleeper" });
    // Assess
    expect(await readFile(join(env, "pids", "sleeper.pid"), "utf8")).toBe(`${daemon.pid}\n`);
    expect(await runningPid(env, "sleeper")).toBe(daemon.pid);
    await daemon.stop();
    expect(await isOurs(daemon.pid, env)).toBe(false);
    expect(await runningPid(env, "sleeper")).toBeUndefined();
    await daemon.stop();
  });

  it("returns once the readiness probe says so, and passes the environment on", async () => {
    // Prepare
    const env = await environment("ready");
    let probes = 0;
    // Act
    const daemon = await startDaemon({
      ...shell(env, 'echo "greeting=$GREETING"; sleep 60; :'),
      name: "slow",
      env: { GREETING: "hello" },
      ready: async () => ++probes === 3,
      pollMs: 10,
    });
    // Assess
    expect(probes).toBe(3);
    expect(await readFile(daemon.logFile, "utf8")).toContain("greeting=hello");
    await daemon.stop();
  });

  it("fails with the log's last lines when the daemon exits while starting", async () => {
    // Prepare
    const env = await environment("exits");
    // Act
    const error = await startDaemon({
      ...shell(env, "echo 'bind: address already in use' >&2; exit 3"),
      name: "doomed",
      ready: async () => false,
    }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DaemonStartError);
    expect(error).toMatchObject({ daemon: "doomed", exited: true });
    expect((error as Error).message).toBe(
      "doomed exited while starting:\nbind: address already in use",
    );
    expect(await runningPid(env, "doomed")).toBeUndefined();
  });

  it("fails, and stops the daemon, when it is not ready in time", async () => {
    // Prepare
    const env = await environment("late");
    let pid: number | undefined;
    // Act
    const error = await startDaemon({
      ...shell(env, "echo 'still loading'; sleep 60; :"),
      name: "late",
      ready: async () => {
        pid ??= await runningPid(env, "late");
        return false;
      },
      timeoutMs: 300,
      pollMs: 20,
    }).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({ name: "DaemonStartError", daemon: "late", exited: false });
    expect((error as Error).message).toBe("late was not ready after 0.3s:\nstill loading");
    expect(pid).toBeDefined();
    expect(await isOurs(pid as number, env)).toBe(false);
  });

  it("refuses to start a second daemon of the same name in a directory", async () => {
    // Prepare
    const env = await environment("twice");
    const first = await startDaemon({ ...shell(env, "sleep 60; :"), name: "only" });
    // Act
    const second = startDaemon({ ...shell(env, "sleep 60; :"), name: "only" });
    // Assess
    await expect(second).rejects.toThrow(`only is already running in ${env} (pid ${first.pid})`);
    await first.stop();
  });

  it("stops with SIGKILL a daemon that ignores SIGTERM, after the grace period", async () => {
    // Prepare
    const env = await environment("stubborn");
    const daemon = await startDaemon({
      ...shell(env, "trap '' TERM; echo trapped; while :; do sleep 0.05; done"),
      name: "stubborn",
      ready: logSays(env, "stubborn", "trapped"),
      pollMs: 10,
    });
    const started = Date.now();
    // Act
    await daemon.stop(300);
    // Assess
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(await isOurs(daemon.pid, env)).toBe(false);
  });
});

describe("stopDaemons", () => {
  it("never signals a process whose command line does not name the directory (a reused pid)", async () => {
    // Prepare
    const env = join(dir, "b");
    await mkdir(join(env, "pids"), { recursive: true });
    const stranger = sleeper(join(dir, "someone-else"));
    await writeFile(join(env, "pids", "etcd.pid"), `${stranger}\n`);
    // Act
    await stopDaemons(env, ["etcd"]);
    // Assess
    expect(await isOurs(stranger, join(dir, "someone-else"))).toBe(true);
    process.kill(stranger, "SIGKILL");
  });

  it("stops every daemon of a directory, the last started first", async () => {
    // Prepare
    const env = await environment("order");
    for (const name of ["first", "second"]) {
      const script = `trap 'echo ${name} >> stopped; kill $!; exit' TERM; echo trapped; sleep 60 & wait`;
      // Ready once the trap is set, so that SIGTERM runs it.
      await startDaemon({ ...shell(env, script), name, ready: logSays(env, name, "trapped") });
    }
    // Act
    await stopDaemons(env, ["first", "second"]);
    // Assess
    expect(await readFile(join(env, "stopped"), "utf8")).toBe("second\nfirst\n");
  });
});

describe("isOurs", () => {
  it("matches the directory at path boundaries only", async () => {
    const env = join(dir, "c");
    const longer = sleeper(`${env}-other`);
    const flag = sleeper(`--data-dir=${env}/etcd`);
    try {
      expect(await isOurs(longer, env)).toBe(false);
      expect(await isOurs(flag, env)).toBe(true);
    } finally {
      process.kill(longer, "SIGKILL");
      process.kill(flag, "SIGKILL");
    }
  });
});
