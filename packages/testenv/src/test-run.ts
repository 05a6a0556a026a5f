import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { goVersion, type Log, ToolchainMissingError } from "./binaries.js";
import { type ControlPlaneState, destroyControlPlane, startControlPlane } from "./control-plane.js";
import { RUNS_DIR } from "./paths.js";

/** What test files learn about the control plane (vitest `provide` / `inject`). */
export type TestControlPlane =
  | { available: true; server: string; kubeconfig: string; dir: string }
  | { available: false; reason: string };

export interface TestRun {
  info: TestControlPlane;
  state?: ControlPlaneState;
  teardown: () => Promise<void>;
}

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
 * Stops control planes whose test run died without tearing down (a killed vitest):
 * each run directory is named `<name>.<owner pid>.<stamp>`, so it names its owner from the
 * moment it exists (no window where a concurrent cleanup sees an unowned directory), and
 * only those whose owner is gone are
 * removed, so concurrent test runs leave each other alone.
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
    log(`removing control plane left by an earlier run: ${dir}`);
    await destroyControlPlane(dir);
  }
}

/**
 * A private control plane for one test run (a vitest global setup, or one test file
 * that needs to stop its API server). Without Go the run is reported as unavailable with
 * the reason, so integration tests show as skipped; under CI=true that is an error, and
 * so is any failure to start.
 */
export async function startTestControlPlane(
  name: string,
  options: {
    log?: Log;
    controllerManager?: boolean;
    apiserverArgs?: string[];
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<TestRun> {
  const log =
    options.log ?? ((line: string) => process.stderr.write(`[testenv ${name}] ${line}\n`));
  const env = options.env ?? process.env;
  try {
    await goVersion(env);
  } catch (error) {
    if (error instanceof ToolchainMissingError && env.CI !== "true") {
      return { info: { available: false, reason: error.message }, teardown: async () => {} };
    }
    throw error;
  }
  await cleanUpAbandonedRuns(log);
  const dir = join(RUNS_DIR, runDirName(name, process.pid));
  await mkdir(dir, { recursive: true });
  try {
    const state = await startControlPlane({
      dir,
      log,
      ...(options.controllerManager === undefined
        ? {}
        : { controllerManager: options.controllerManager }),
      ...(options.apiserverArgs ? { apiserverArgs: options.apiserverArgs } : {}),
    });
    return {
      info: { available: true, server: state.server, kubeconfig: state.kubeconfig, dir },
      state,
      teardown: () => destroyControlPlane(dir),
    };
  } catch (error) {
    await destroyControlPlane(dir);
    throw error;
  }
}
