import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import lockfile from "proper-lockfile";
import type { Log } from "./binaries.js";
import { PythonMissingError } from "./errors.js";
import { cacheRoot } from "./paths.js";

const execFileAsync = promisify(execFile);

/** A tool from PyPI, pinned, that tests run from a venv of its own. */
export interface PythonTool {
  /** Cache directory name, e.g. `moto`. */
  readonly name: string;
  /** What pip installs, e.g. `moto[server]==5.2.5`. */
  readonly requirement: string;
  readonly version: string;
  /** For messages: what the tool is for. */
  readonly purpose: string;
}

/**
 * The venv directory of `tool`, installing it from PyPI first if this version is not
 * cached yet. Concurrent first installs wait for one; a finished install is marked by a
 * file written last, so a half-done one is never used. Without Python 3 it throws
 * PythonMissingError.
 */
export async function ensurePythonTool(
  tool: PythonTool,
  log: Log,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const parent = join(cacheRoot(env), tool.name);
  const dir = join(parent, tool.version);
  const ready = () =>
    readFile(join(dir, "installed"), "utf8").then(
      (text) => text.trim() === tool.version,
      () => false,
    );
  if (await ready()) return dir;
  try {
    await execFileAsync("python3", ["-c", "import venv, ensurepip"], { env, timeout: 30_000 });
  } catch (error) {
    throw new PythonMissingError(
      `${tool.name} (${tool.purpose})`,
      (error as Error).message.split("\n")[0] ?? "python3 failed",
    );
  }
  await mkdir(parent, { recursive: true });
  const release = await lockfile.lock(parent, {
    lockfilePath: `${dir}.lock`,
    stale: 60_000,
    update: 10_000,
    // Another process may be installing: wait for it, longer than its pip may take.
    retries: { retries: 1200, factor: 1, minTimeout: 1_000, maxTimeout: 1_000 },
  });
  try {
    if (await ready()) return dir;
    log(`installing ${tool.requirement} into ${dir} (once per version)`);
    // A venv's scripts name its own path, so it is built in place.
    await rm(dir, { recursive: true, force: true });
    await execFileAsync("python3", ["-m", "venv", dir], { env, timeout: 120_000 });
    await execFileAsync(
      join(dir, "bin", "pip"),
      ["install", "--quiet", "--disable-pip-version-check", tool.requirement],
      { env, timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    await writeFile(join(dir, "installed"), `${tool.version}\n`);
    log(`${tool.name} installed`);
    return dir;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await release();
  }
}
