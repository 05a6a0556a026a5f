import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Log } from "./binaries.js";
import { destroyControlPlane } from "./control-plane.js";
import { RUNS_DIR } from "./paths.js";

/**
 * Run directories: one under `.testenv/runs/` for each server a test run starts (a
 * control plane, a moto, a Lambda emulator), named `<name>.<owner pid>.<stamp>`, so it
 * names its owner from the moment it exists (no window where a concurrent cleanup sees
 * an unowned directory).
 */

/** A run directory's name: `<name>.<owner pid>.<stamp>`. */
export function runDirName(name: string, owner: number): string {
  return `${name}.${owner}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** The owner pid a run directory's name records; undefined for anything else there. */
export function ownerOf(dirName: string): number | undefined {
  const match = /\.(\d+)\.[a-z0-9]+$/.exec(dirName);
  return match ? Number(match[1]) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Stops the daemons of run directories whose owner died without tearing down (a killed
 * vitest) and removes the directories. Only those whose owner is gone are touched, so
 * concurrent test runs leave each other alone.
 */
export async function cleanUpAbandonedRuns(log: Log): Promise<void> {
  let names: string[];
  try {
    names = await readdir(RUNS_DIR);
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(RUNS_DIR, name);
    const owner = ownerOf(name);
    if (owner === undefined || alive(owner)) continue;
    log(`removing what an earlier run left: ${dir}`);
    await destroyControlPlane(dir);
  }
}

/**
 * A new run directory for this process, after cleaning up abandoned ones. The caller
 * removes it when done.
 *
 * @example
 * const dir = await createRunDir("s3-library", log);
 */
export async function createRunDir(name: string, log: Log): Promise<string> {
  await cleanUpAbandonedRuns(log);
  const dir = join(RUNS_DIR, runDirName(name, process.pid));
  await mkdir(dir, { recursive: true });
  return dir;
}
