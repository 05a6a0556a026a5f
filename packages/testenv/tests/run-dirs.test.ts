import { spawn } from "node:child_process";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isOurs, stopDaemons } from "../src/daemon.js";
import { RUNS_DIR } from "../src/paths.js";
import { cleanUpAbandonedRuns, ownerOf, runDirName } from "../src/run-dirs.js";

/** A long-running process whose command line names `marker` (see daemon.test.ts). */
function sleeper(marker: string): number {
  const child = spawn("sh", ["-c", "sleep 60; :", marker], { detached: true, stdio: "ignore" });
  child.unref();
  return child.pid as number;
}

describe("cleanUpAbandonedRuns", () => {
  it("stops and removes runs whose owner died, and leaves live runs alone", async () => {
    // Prepare: a pid that cannot be alive, above the kernel's largest pid_max.
    const abandoned = join(RUNS_DIR, runDirName("test-abandoned", 4194305));
    const live = join(RUNS_DIR, runDirName("test-live", process.pid));
    for (const run of [abandoned, live]) await mkdir(join(run, "pids"), { recursive: true });
    const leftover = sleeper(abandoned);
    const running = sleeper(live);
    await writeFile(join(abandoned, "pids", "kube-apiserver.pid"), `${leftover}\n`);
    await writeFile(join(live, "pids", "kube-apiserver.pid"), `${running}\n`);
    // Act
    await cleanUpAbandonedRuns(() => {});
    // Assess
    expect(await isOurs(leftover, abandoned)).toBe(false);
    await expect(readdir(abandoned)).rejects.toThrow();
    expect(await isOurs(running, live)).toBe(true);
    await stopDaemons(live);
    await rm(live, { recursive: true, force: true });
  });
});

describe("run directory names", () => {
  it("record their owner pid, whatever the run's name", () => {
    for (const name of ["cli", "submitter-outage", "a.b-1.2"]) {
      expect(ownerOf(runDirName(name, 12345))).toBe(12345);
    }
    expect(ownerOf("README")).toBeUndefined();
  });
});
