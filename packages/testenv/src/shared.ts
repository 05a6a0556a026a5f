import { copyFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import type { Log } from "./binaries.js";
import {
  type ControlPlaneState,
  destroyControlPlane,
  isHealthy,
  readState,
  startControlPlane,
} from "./control-plane.js";
import { SHARED_ENV_DIR } from "./paths.js";

/** The long-lived control plane's own directory; its kubeconfig is copied one level up. */
const LOCAL_DIR = join(SHARED_ENV_DIR, "local");
export const SHARED_KUBECONFIG = join(SHARED_ENV_DIR, "kubeconfig");

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  await mkdir(SHARED_ENV_DIR, { recursive: true });
  const release = await lockfile.lock(SHARED_ENV_DIR, {
    lockfilePath: join(SHARED_ENV_DIR, "local.lock"),
    stale: 60_000,
    update: 10_000,
    retries: { retries: 1800, factor: 1, minTimeout: 2_000, maxTimeout: 2_000 },
  });
  try {
    return await work();
  } finally {
    await release();
  }
}

/**
 * Brings up the control plane in .testenv/ unless it is already running and healthy, and
 * returns it with `kubeconfig` pointing at .testenv/kubeconfig. Processes left over from a
 * crashed run are stopped (through their pid files) before a fresh start.
 */
export function upShared(log: Log): Promise<ControlPlaneState> {
  return withLock(async () => {
    let state = await readState(LOCAL_DIR);
    if (state && (await isHealthy(state))) {
      log(`already running at ${state.server}`);
    } else {
      state = await startControlPlane({ dir: LOCAL_DIR, log });
    }
    await copyFile(state.kubeconfig, SHARED_KUBECONFIG);
    return { ...state, kubeconfig: SHARED_KUBECONFIG };
  });
}

/** Stops the control plane in .testenv/ and removes its data and kubeconfig. */
export function downShared(log: Log): Promise<void> {
  return withLock(async () => {
    await destroyControlPlane(LOCAL_DIR);
    await rm(SHARED_KUBECONFIG, { force: true });
    log("stopped, data removed");
  });
}
