import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { goVersion, type Log } from "./binaries.js";
import { withBuildLock } from "./build-lock.js";
import { HelmToolchainMissingError } from "./errors.js";
import { goBuildInto } from "./go-command.js";
import { cacheRoot, REPO_ROOT } from "./paths.js";

const execFileAsync = promisify(execFile);

/** The Go module that pins Helm (tools/helm/go.mod). */
const HELM_TOOLS_DIR = join(REPO_ROOT, "tools", "helm");
const HELM_MODULE = "helm.sh/helm/v3";

/**
 * The Helm version pinned in tools/helm/go.mod, e.g. `v3.22.0`.
 *
 * @example
 * await readHelmVersion(); // "v3.22.0"
 */
export async function readHelmVersion(): Promise<string> {
  const goMod = await readFile(join(HELM_TOOLS_DIR, "go.mod"), "utf8");
  const match = new RegExp(
    `^\\s*(?:require\\s+)?${HELM_MODULE.replaceAll(".", "\\.")}\\s+(v\\S+)`,
    "m",
  ).exec(goMod);
  if (!match?.[1]) throw new Error(`tools/helm/go.mod does not require ${HELM_MODULE}`);
  return match[1];
}

/**
 * Where helm is (or will be) cached: named by its version and a short hash of the tools
 * module, so a changed dependency never reuses an old binary.
 *
 * @example
 * await helmPath(); // ~/.cache/ondemand-eks/helm/v3.22.0-1a2b3c4d5e6f/bin/helm
 */
export async function helmPath(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const hash = createHash("sha256");
  for (const file of ["go.mod", "go.sum", "tools.go"]) {
    hash.update(file).update(await readFile(join(HELM_TOOLS_DIR, file)));
  }
  const key = `${await readHelmVersion()}-${hash.digest("hex").slice(0, 12)}`;
  return join(cacheRoot(env), "helm", key, "bin", "helm");
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export interface EnsureHelmOptions {
  /** Progress lines of a build; to stderr by default. */
  log?: Log;
  /** What Go sees (PATH, ONDEMAND_EKS_CACHE_DIR, GOPROXY...); process.env by default. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Returns the path of `helm`, built from tools/helm the first time (about a minute on
 * two cores) and cached under `<cache>/helm/<version>-<hash>/bin/`. Concurrent callers
 * wait on one lock, and only the first builds. Without Go (and nothing cached) it throws
 * HelmToolchainMissingError, a PrerequisiteMissingError: see skipUnlessCi.
 *
 * @example
 * const helm = await skipUnlessCi(() => ensureHelm());
 * // helm.value: ".../helm", to run `helm template <chart>`
 */
export async function ensureHelm(options: EnsureHelmOptions = {}): Promise<string> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[helm] ${line}\n`));
  const env = options.env ?? process.env;
  const binary = await helmPath(env);
  if (await exists(binary)) return binary;

  const go = await goVersion(env, (detail) => new HelmToolchainMissingError(detail));
  const dir = join(binary, "..", "..");
  await mkdir(dir, { recursive: true });
  return withBuildLock(dir, { what: "helm", waitSeconds: 1800, log }, async () => {
    if (!(await exists(binary))) await build(dir, go, log, env);
    return binary;
  });
}

/** Builds helm into `<dir>/bin.partial-<pid>/`, then renames that to `<dir>/bin`. */
async function build(dir: string, go: string, log: Log, env: NodeJS.ProcessEnv): Promise<void> {
  const started = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)}s`;
  const version = await readHelmVersion();
  log(`building helm ${version} with ${go}`);
  log(`this happens once per version and takes a minute or two; it goes to ${dir}/bin`);
  await goBuildInto(dir, {
    cwd: HELM_TOOLS_DIR,
    env,
    packages: [`${HELM_MODULE}/cmd/helm`],
    // What helm's Makefile sets, so `helm version` names the release, not "v3.x-dev".
    ldflags: `-s -w -X ${HELM_MODULE}/internal/version.version=${version}`,
    log,
    elapsed,
  });
  log(`helm built in ${elapsed()}`);
}

/**
 * Runs helm with `args` and resolves to what it wrote on stdout; rejects with its stderr
 * when it fails. `HELM_*` directories point into a throwaway place under the cache, so a
 * user's own Helm configuration and repositories never take part.
 *
 * @example
 * const yaml = await runHelm(helm, ["template", "ondemand-eks", chartDir]);
 */
export async function runHelm(
  binary: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const home = join(cacheRoot(env), "helm", "home");
  try {
    const { stdout } = await execFileAsync(binary, [...args], {
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
      env: {
        ...env,
        HELM_CACHE_HOME: join(home, "cache"),
        HELM_CONFIG_HOME: join(home, "config"),
        HELM_DATA_HOME: join(home, "data"),
      },
    });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`helm ${args.join(" ")} failed:\n${stderr ?? ""}${stdout ?? ""}`, {
      cause: error,
    });
  }
}
