import lockfile from "proper-lockfile";
import type { Log } from "./binaries.js";

/**
 * Runs `work` holding the lock of a cache directory, so that concurrent first builds
 * (several test files, or npm start beside a test run) make one build and the others
 * wait for it, saying so. `work` should check again whether the build already exists:
 * the process it waited for may have made it.
 */
export async function withBuildLock<T>(
  dir: string,
  options: { what: string; waitSeconds: number; log: Log },
  work: () => Promise<T>,
): Promise<T> {
  const lockOptions = {
    lockfilePath: `${dir}.lock`,
    stale: 60_000,
    update: 10_000,
    onCompromised: (error: Error) => options.log(`build lock lost: ${error.message}`),
  };
  const release = await lockfile
    .lock(dir, lockOptions)
    .catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== "ELOCKED") throw error;
      options.log(`another process is building ${options.what}; waiting for it`);
      return lockfile.lock(dir, {
        ...lockOptions,
        retries: {
          retries: options.waitSeconds,
          factor: 1,
          minTimeout: 1_000,
          maxTimeout: 1_000,
        },
      });
    });
  try {
    return await work();
  } finally {
    await release();
  }
}
