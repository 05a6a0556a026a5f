import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Log } from "./binaries.js";
import { startDaemon } from "./daemon.js";
import { DaemonStartError } from "./errors.js";
import { freePort } from "./ports.js";
import { ensurePythonTool, type PythonTool } from "./python-tools.js";
import { createRunDir } from "./run-dirs.js";

/** The AWS emulator the tests use, pinned; installed from PyPI into a cached venv. */
export const MOTO_VERSION = "5.2.5";

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
 * switches such as INITIAL_NO_AUTH_ACTION_COUNT (enforce IAM after N calls). Without
 * Python 3 (and no moto cached) it throws PythonMissingError: see skipUnlessCi.
 *
 * @example
 * const moto = await startMoto("s3-library");
 * const s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true });
 * await moto.stop();
 */
export async function startMoto(
  name: string,
  options: {
    log?: Log;
    env?: Record<string, string>;
    /** Chooses each port to try; default a free one. For tests of the retry. */
    port?: () => Promise<number>;
  } = {},
): Promise<Moto> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[moto ${name}] ${line}\n`));
  const python = await ensureMoto(log);
  const dir = await createRunDir(name, log);
  try {
    const choose = options.port ?? freePort;
    const { daemon, endpoint } = await startOnFreePort(python, dir, options.env, log, choose);
    const stop = async () => {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    };
    return { endpoint, dir, stop };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * moto on a port that was free when chosen. Another process can take the port between
 * choosing and binding it (tests start servers side by side); moto then exits at once
 * with "Address already in use", and a new port is tried, up to three times.
 */
async function startOnFreePort(
  python: string,
  dir: string,
  env: Record<string, string> | undefined,
  log: Log,
  choose: () => Promise<number>,
): Promise<{ daemon: Awaited<ReturnType<typeof startDaemon>>; endpoint: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await choose();
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      const daemon = await startDaemon({
        dir,
        name: "moto",
        command: python,
        // The run directory rides along as an argument, so the pid check can recognise it.
        args: [MOTO_SERVER, dir, "-H", "127.0.0.1", "-p", String(port)],
        env,
        ready: () =>
          fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) }).then(
            (response) => response.ok,
            () => false,
          ),
        timeoutMs: 60_000,
      });
      return { daemon, endpoint };
    } catch (error) {
      const taken =
        error instanceof DaemonStartError &&
        error.exited &&
        /address already in use/i.test(error.message);
      if (!taken || attempt >= 3) throw error;
      log(`port ${port} was taken before moto bound it; trying another (attempt ${attempt})`);
    }
  }
}
