import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository checkout this package lives in (works from src/ and from dist/). */
export const REPO_ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

/** The Go module that pins and builds the control-plane binaries. */
export const TOOLS_MODULE_DIR = join(REPO_ROOT, "tools", "k8s");

/** Manifests applied to every control plane, so a job can be scheduled straight away: the base the entry points list. */
export const DEPLOY_DIR = join(REPO_ROOT, "deploy", "kubernetes", "base");

/** The control plane `npm run testenv:up` starts; `.testenv/` is git-ignored (`ONDEMAND_EKS_TESTENV_DIR` moves it). */
export const SHARED_ENV_DIR = process.env.ONDEMAND_EKS_TESTENV_DIR
  ? resolve(process.env.ONDEMAND_EKS_TESTENV_DIR)
  : join(REPO_ROOT, ".testenv");

/** Where throwaway control planes for test runs live, one directory each. */
export const RUNS_DIR = join(SHARED_ENV_DIR, "runs");

/**
 * Built binaries are cached outside the work tree, so every clone and every run
 * after the first starts in seconds. `ONDEMAND_EKS_CACHE_DIR` overrides the place.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ONDEMAND_EKS_CACHE_DIR) return resolve(env.ONDEMAND_EKS_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), ".cache");
  return join(base, "ondemand-eks");
}
