import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { withBuildLock } from "./build-lock.js";
import { ToolchainMissingError } from "./errors.js";
import { goBuildInto } from "./go-command.js";
import { cacheRoot, TOOLS_MODULE_DIR } from "./paths.js";

const execFileAsync = promisify(execFile);

/** The commands the tools module builds, by output name. */
const COMMANDS = {
  etcd: "./cmd/etcd",
  "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
  "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
  "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
  // Not part of the control plane: tests run it as a user would (exec credential plugins).
  kubectl: "k8s.io/kubernetes/cmd/kubectl",
} as const;

export type BinaryName = keyof typeof COMMANDS;
export type Binaries = Record<BinaryName, string>;

export interface ToolVersions {
  kubernetes: string;
  etcd: string;
}

export type Log = (line: string) => void;

/** The versions pinned in tools/k8s/go.mod: the one place to change them. */
export async function readToolVersions(): Promise<ToolVersions> {
  const goMod = await readFile(join(TOOLS_MODULE_DIR, "go.mod"), "utf8");
  const version = (module: string): string => {
    const match = new RegExp(`^\\s*${module.replaceAll(".", "\\.")}\\s+(v\\S+)`, "m").exec(goMod);
    if (!match?.[1]) throw new Error(`tools/k8s/go.mod does not require ${module}`);
    return match[1];
  };
  return {
    kubernetes: version("k8s.io/kubernetes"),
    etcd: version("go.etcd.io/etcd/server/v3"),
  };
}

/**
 * The cache directory for this exact build: named by the versions, plus a short hash
 * of the tools module so a changed replace list or dependency never reuses old binaries.
 */
export async function binariesDir(): Promise<string> {
  const versions = await readToolVersions();
  const hash = createHash("sha256");
  for (const file of ["go.mod", "go.sum", "tools.go", "cmd/etcd/main.go"]) {
    hash.update(file).update(await readFile(join(TOOLS_MODULE_DIR, file)));
  }
  const key = `k8s-${versions.kubernetes}-etcd-${versions.etcd}-${hash.digest("hex").slice(0, 12)}`;
  return join(cacheRoot(), "control-plane", key);
}

function binaryPaths(dir: string): Binaries {
  const bin = join(dir, "bin");
  return {
    etcd: join(bin, "etcd"),
    "kube-apiserver": join(bin, "kube-apiserver"),
    "kube-controller-manager": join(bin, "kube-controller-manager"),
    "kube-scheduler": join(bin, "kube-scheduler"),
    kubectl: join(bin, "kubectl"),
  };
}

async function allExist(paths: Binaries): Promise<boolean> {
  try {
    await Promise.all(Object.values(paths).map((path) => access(path)));
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks for a Go toolchain and returns its version line. Without one it throws the
 * `missing` error (ToolchainMissingError, or the subclass that names what needed Go).
 */
export async function goVersion(
  env: NodeJS.ProcessEnv = process.env,
  missing: (detail: string) => ToolchainMissingError = (detail) =>
    new ToolchainMissingError(detail),
): Promise<string> {
  try {
    const { stdout } = await execFileAsync("go", ["version"], { timeout: 60_000, env });
    return stdout.trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw missing(code === "ENOENT" ? "`go` is not on PATH" : String(error));
  }
}

/**
 * Returns the paths of etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
 * kubectl, building them
 * first if this version is not cached yet. Concurrent callers (several test runs at
 * once) wait on one lock, and only the first builds.
 */
export async function ensureBinaries(log: Log): Promise<Binaries> {
  const dir = await binariesDir();
  const paths = binaryPaths(dir);
  if (await allExist(paths)) return paths;

  const go = await goVersion();
  await mkdir(dir, { recursive: true });
  // Up to an hour: a cold build of Kubernetes takes minutes on two cores.
  return withBuildLock(dir, { what: "the control plane", waitSeconds: 3600, log }, async () => {
    if (!(await allExist(paths))) await build(dir, go, log);
    return paths;
  });
}

async function build(dir: string, go: string, log: Log): Promise<void> {
  const versions = await readToolVersions();
  const started = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)}s`;
  log(
    `building the local control plane (Kubernetes ${versions.kubernetes}, etcd ${versions.etcd}) with ${go}`,
  );
  log(`this happens once per version and takes several minutes; binaries go to ${dir}`);

  const [major, minor] = versions.kubernetes.replace(/^v/, "").split(".");
  await goBuildInto(dir, {
    cwd: TOOLS_MODULE_DIR,
    env: process.env,
    packages: Object.values(COMMANDS),
    ldflags: [
      "-s -w",
      `-X k8s.io/component-base/version.gitVersion=${versions.kubernetes}`,
      `-X k8s.io/component-base/version.gitMajor=${major}`,
      `-X k8s.io/component-base/version.gitMinor=${minor}`,
    ].join(" "),
    log,
    elapsed,
  });
  log(`control plane built in ${elapsed()}`);
}
