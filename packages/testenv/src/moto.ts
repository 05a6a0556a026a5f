import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Log } from "./binaries.js";
import { RUNS_DIR } from "./paths.js";
import { freePort } from "./ports.js";
import { logTail, runningPid, startDaemon, stopAllDaemons } from "./processes.js";
import { ensurePythonTool, PythonMissingError, type PythonTool } from "./python-tools.js";
import { cleanUpAbandonedRuns, runDirName } from "./test-run.js";

/** The AWS emulator the tests use, pinned; installed from PyPI into a cached venv. */
export const MOTO_VERSION = "5.2.5";

export { PythonMissingError };

/** moto's server with two speed-only changes to its SQS; the file says what and why. */
const MOTO_SERVER = fileURLToPath(new URL("../moto/server.py", import.meta.url));

/** moto[server], pinned. */
const MOTO: PythonTool = {
  name: "moto",
  requirement: `moto[server]==${MOTO_VERSION}`,
  version: MOTO_VERSION,
  purpose: "the AWS emulator for tests",
};

/** The venv's python, installing moto[server] first if this version is not cached yet. */
export async function ensureMoto(log: Log, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return join(await ensurePythonTool(MOTO, log, env), "bin", "python");
}

export interface Moto {
  /** `http://127.0.0.1:<port>`: point AWS SDK clients here (S3 path-style). */
  endpoint: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts moto server on a free loopback port in its own run directory (pid file, log),
 * cleaned up like the control planes' when its owner dies. `env` reaches moto, for
 * switches such as INITIAL_NO_AUTH_ACTION_COUNT (enforce IAM after N calls).
 */
export async function startMoto(
  name: string,
  options: { log?: Log; env?: Record<string, string> } = {},
): Promise<Moto> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[moto ${name}] ${line}\n`));
  const python = await ensureMoto(log);
  await cleanUpAbandonedRuns(log);
  const dir = join(RUNS_DIR, runDirName(name, process.pid));
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  // The run directory rides along as an argument, so the pid check can recognise it.
  await startDaemon(
    dir,
    "moto",
    python,
    [MOTO_SERVER, dir, "-H", "127.0.0.1", "-p", String(port)],
    options.env,
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopAllDaemons(dir, ["moto"]);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const up = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if ((await runningPid(dir, "moto")) === undefined) {
      const tail = await logTail(dir, "moto");
      await stop();
      throw new Error(`moto exited while starting:\n${tail}`);
    }
    if (up) return { endpoint, dir, stop };
    await sleep(100);
  }
  await stop();
  throw new Error("moto was not ready after 60s");
}

/**
 * moto for a test file: without Python the tests are skipped with the reason (returned
 * here), except under CI=true, where that is an error like any failure to start.
 */
export async function startTestMoto(
  name: string,
  options: { env?: Record<string, string> } = {},
): Promise<{ moto: Moto; skipReason?: undefined } | { moto?: undefined; skipReason: string }> {
  try {
    return { moto: await startMoto(name, options) };
  } catch (error) {
    if (error instanceof PythonMissingError && process.env.CI !== "true") {
      return { skipReason: error.message };
    }
    throw error;
  }
}
