import { createHash } from "node:crypto";
import { access, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { goVersion, type Log } from "./binaries.js";
import { withBuildLock } from "./build-lock.js";
import { BuildkiteAgentToolchainMissingError } from "./errors.js";
import { goBuildInto } from "./go-command.js";
import { cacheRoot, REPO_ROOT } from "./paths.js";

/** The Go module that pins the Buildkite agent, with its stand-in for drjosh.dev/zzglob. */
const AGENT_TOOLS_DIR = join(REPO_ROOT, "tools", "buildkite-agent");
/** The agent's module; its main package is the module root. */
const AGENT_MODULE = "github.com/buildkite/agent/v3";

/**
 * The agent version pinned in tools/buildkite-agent/go.mod, e.g. `v3.137.0`.
 *
 * @example
 * await readBuildkiteAgentVersion(); // "v3.137.0"
 */
export async function readBuildkiteAgentVersion(): Promise<string> {
  const goMod = await readFile(join(AGENT_TOOLS_DIR, "go.mod"), "utf8");
  const match = new RegExp(
    `^\\s*(?:require\\s+)?${AGENT_MODULE.replaceAll(".", "\\.")}\\s+(v\\S+)`,
    "m",
  ).exec(goMod);
  if (!match?.[1]) throw new Error(`tools/buildkite-agent/go.mod does not require ${AGENT_MODULE}`);
  return match[1];
}

/** The files the binary is made from: the module files and the zzglob stand-in's sources. */
async function sourceFiles(): Promise<string[]> {
  const standIn = (await readdir(join(AGENT_TOOLS_DIR, "zzglob")))
    .filter((name) => name === "go.mod" || name === "go.sum" || /(?<!_test)\.go$/.test(name))
    .map((name) => `zzglob/${name}`)
    .sort();
  return ["go.mod", "go.sum", "tools.go", ...standIn];
}

/**
 * Where the agent is (or will be) cached: named by its version and a short hash of the
 * tools module, so a changed dependency or stand-in never reuses an old binary.
 *
 * @example
 * await buildkiteAgentPath(); // ~/.cache/ondemand-eks/buildkite-agent/v3.137.0-1a2b3c4d5e6f/bin/buildkite-agent
 */
export async function buildkiteAgentPath(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const hash = createHash("sha256");
  for (const file of await sourceFiles()) {
    hash.update(file).update(await readFile(join(AGENT_TOOLS_DIR, file)));
  }
  const key = `${await readBuildkiteAgentVersion()}-${hash.digest("hex").slice(0, 12)}`;
  return join(cacheRoot(env), "buildkite-agent", key, "bin", "buildkite-agent");
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

const goVersionForAgent = (env: NodeJS.ProcessEnv) =>
  goVersion(env, (detail) => new BuildkiteAgentToolchainMissingError(detail));

export interface EnsureBuildkiteAgentOptions {
  /** Progress lines of a build; to stderr by default. */
  log?: Log;
  /** What Go sees (PATH, ONDEMAND_EKS_CACHE_DIR, GOPROXY...); process.env by default. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Returns the path of the real `buildkite-agent`, built from tools/buildkite-agent the
 * first time (a few minutes on two cores) and cached under
 * `<cache>/buildkite-agent/<version>-<hash>/bin/`. Concurrent callers wait on one lock,
 * and only the first builds. Without Go (and nothing cached) it throws
 * BuildkiteAgentToolchainMissingError, a PrerequisiteMissingError: see skipUnlessCi.
 *
 * @example
 * const agent = await skipUnlessCi(() => ensureBuildkiteAgent());
 * // agent.value: ".../buildkite-agent", to run with `start --endpoint http://127.0.0.1:<port>/v3`
 */
export async function ensureBuildkiteAgent(
  options: EnsureBuildkiteAgentOptions = {},
): Promise<string> {
  const log =
    options.log ?? ((line: string) => process.stderr.write(`[buildkite-agent] ${line}\n`));
  const env = options.env ?? process.env;
  const binary = await buildkiteAgentPath(env);
  if (await exists(binary)) return binary;

  const go = await goVersionForAgent(env);
  const dir = join(binary, "..", "..");
  await mkdir(dir, { recursive: true });
  return withBuildLock(dir, { what: "buildkite-agent", waitSeconds: 1800, log }, async () => {
    if (!(await exists(binary))) await build(dir, go, log, env);
    return binary;
  });
}

/** Builds the agent into `<dir>/bin.partial-<pid>/`, then renames that to `<dir>/bin`. */
async function build(dir: string, go: string, log: Log, env: NodeJS.ProcessEnv): Promise<void> {
  const started = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)}s`;
  log(`building buildkite-agent ${await readBuildkiteAgentVersion()} with ${go}`);
  log(`this happens once per version and takes a few minutes; it goes to ${dir}/bin`);
  await goBuildInto(dir, {
    cwd: AGENT_TOOLS_DIR,
    env,
    packages: [AGENT_MODULE],
    // An explicit file name: for a module path ending in /v3, go would name it `agent`.
    output: "buildkite-agent",
    log,
    elapsed,
  });
  log(`buildkite-agent built in ${elapsed()}`);
}
