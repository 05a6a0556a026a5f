import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import lockfile from "proper-lockfile";
import type { Log } from "./binaries.js";
import { cacheRoot, RUNS_DIR } from "./paths.js";
import { freePort } from "./ports.js";
import { logTail, runningPid, startDaemon, stopAllDaemons } from "./processes.js";
import { cleanUpAbandonedRuns, runDirName } from "./test-run.js";

const execFileAsync = promisify(execFile);

/** The AWS emulator the tests use, pinned; installed from PyPI into a cached venv. */
export const MOTO_VERSION = "5.2.5";

/** No usable Python 3 to install moto with. */
export class PythonMissingError extends Error {
  constructor(detail: string) {
    super(
      `moto (the AWS emulator for tests) is installed with Python 3 and its venv module, and none was usable (${detail})`,
    );
    this.name = "PythonMissingError";
  }
}

/** The venv's python, installing moto[server] first if this version is not cached yet. */
export async function ensureMoto(log: Log, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = join(cacheRoot(env), "moto", MOTO_VERSION);
  const python = join(dir, "bin", "python");
  // Finished installs only: the marker is written last, with the version.
  const ready = () =>
    readFile(join(dir, "installed"), "utf8").then(
      (text) => text.trim() === MOTO_VERSION,
      () => false,
    );
  if (await ready()) return python;
  try {
    await execFileAsync("python3", ["-c", "import venv, ensurepip"], { env, timeout: 30_000 });
  } catch (error) {
    throw new PythonMissingError((error as Error).message.split("\n")[0] ?? "python3 failed");
  }
  await mkdir(join(cacheRoot(env), "moto"), { recursive: true });
  const release = await lockfile.lock(join(cacheRoot(env), "moto"), {
    lockfilePath: `${dir}.lock`,
    stale: 60_000,
    update: 10_000,
    // Another process may be installing: wait for it, longer than its pip may take.
    retries: { retries: 1200, factor: 1, minTimeout: 1_000, maxTimeout: 1_000 },
  });
  try {
    if (await ready()) return python;
    log(`installing moto[server] ${MOTO_VERSION} into ${dir} (once per version)`);
    // A venv's scripts name its own path, so it is built in place; the marker file says
    // the install finished.
    await rm(dir, { recursive: true, force: true });
    await execFileAsync("python3", ["-m", "venv", dir], { env, timeout: 120_000 });
    await execFileAsync(
      join(dir, "bin", "pip"),
      ["install", "--quiet", "--disable-pip-version-check", `moto[server]==${MOTO_VERSION}`],
      { env, timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    await writeFile(join(dir, "installed"), `${MOTO_VERSION}\n`);
    log("moto installed");
    return python;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await release();
  }
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
    [
      "-c",
      "import sys; from moto.server import main; main(sys.argv[2:])",
      dir,
      "-H",
      "127.0.0.1",
      "-p",
      String(port),
    ],
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
