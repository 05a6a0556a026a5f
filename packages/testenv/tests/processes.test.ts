import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readToolVersions } from "@ondemand-eks/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isOurs, runningPid, startDaemon, stopAllDaemons } from "../src/processes.js";

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

describe("pid files", () => {
  it("starts a daemon, records it, and stops it through its pid file", async () => {
    const env = join(dir, "a");
    await mkdir(env);
    const daemon = await startDaemon(env, "sleeper", "sh", ["-c", "sleep 60; :", env]);
    expect(await readFile(join(env, "pids", "sleeper.pid"), "utf8")).toBe(`${daemon.pid}\n`);
    expect(await runningPid(env, "sleeper")).toBe(daemon.pid);
    await stopAllDaemons(env, ["sleeper"]);
    expect(await isOurs(daemon.pid, env)).toBe(false);
    expect(await runningPid(env, "sleeper")).toBeUndefined();
  });

  it("never signals a process whose command line does not name the directory (a reused pid)", async () => {
    const env = join(dir, "b");
    await mkdir(join(env, "pids"), { recursive: true });
    const stranger = sleeper(join(dir, "someone-else"));
    await writeFile(join(env, "pids", "etcd.pid"), `${stranger}\n`);
    await stopAllDaemons(env, ["etcd"]);
    expect(await isOurs(stranger, join(dir, "someone-else"))).toBe(true);
    process.kill(stranger, "SIGKILL");
  });
});

describe("readToolVersions", () => {
  it("reads the pinned versions from tools/k8s/go.mod", async () => {
    const goMod = await readFile(new URL("../../../tools/k8s/go.mod", import.meta.url), "utf8");
    const versions = await readToolVersions();
    expect(goMod).toContain(`k8s.io/kubernetes ${versions.kubernetes}`);
    expect(goMod).toContain(`go.etcd.io/etcd/server/v3 ${versions.etcd}`);
    // Every staging module is replaced by the release with the same minor and patch.
    const staging = versions.kubernetes.replace(/^v1\./, "v0.");
    const replaced = [...goMod.matchAll(/^\s*(k8s\.io\/\S+) => \S+ (v\S+)$/gm)];
    expect(replaced.length).toBeGreaterThan(30);
    for (const [, module, version] of replaced)
      expect(`${module} ${version}`).toBe(`${module} ${staging}`);
  });
});

describe("cleanUpAbandonedRuns", () => {
  it("stops and removes runs whose owner died, and leaves live runs alone", async () => {
    const { RUNS_DIR } = await import("../src/paths.js");
    const { cleanUpAbandonedRuns, runDirName } = await import("../src/test-run.js");
    // A pid that cannot be alive: above the kernel's largest pid_max.
    const abandoned = join(RUNS_DIR, runDirName("test-abandoned", 4194305));
    const live = join(RUNS_DIR, runDirName("test-live", process.pid));
    for (const run of [abandoned, live]) await mkdir(join(run, "pids"), { recursive: true });
    const leftover = sleeper(abandoned);
    const running = sleeper(live);
    await writeFile(join(abandoned, "pids", "kube-apiserver.pid"), `${leftover}\n`);
    await writeFile(join(live, "pids", "kube-apiserver.pid"), `${running}\n`);

    await cleanUpAbandonedRuns(() => {});

    expect(await isOurs(leftover, abandoned)).toBe(false);
    await expect(readdir(abandoned)).rejects.toThrow();
    expect(await isOurs(running, live)).toBe(true);
    await stopAllDaemons(live, ["kube-apiserver"]);
    await rm(live, { recursive: true, force: true });
  });
});

describe("run directory names", () => {
  it("record their owner pid, whatever the run's name", async () => {
    const { ownerOf, runDirName } = await import("../src/test-run.js");
    for (const name of ["cli", "submitter-outage", "a.b-1.2"]) {
      expect(ownerOf(runDirName(name, 12345))).toBe(12345);
    }
    expect(ownerOf("README")).toBeUndefined();
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
