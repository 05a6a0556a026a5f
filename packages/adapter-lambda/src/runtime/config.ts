import { isAbsolute, join } from "node:path";
import {
  InvalidSettingsError,
  type SchedulerSettings,
  settingsFromEnvironment,
} from "@ondemand-eks/core";
import { checkClusterName, partitionOf } from "@ondemand-eks/eks-auth";

/** Where the function finds its cluster. */
export type ClusterConfig =
  | {
      readonly kind: "eks";
      readonly clusterName: string;
      readonly region: string;
      /** Both or neither: given, no DescribeCluster call is made. */
      readonly endpoint?: string;
      readonly caPem?: string;
    }
  | { readonly kind: "kubeconfig"; readonly path: string; readonly context?: string };

/** Where the pod library comes from. */
export type LibraryConfig =
  | { readonly kind: "directory"; readonly path: string }
  | {
      readonly kind: "s3";
      readonly bucket: string;
      /** Key prefix, ending in "/" unless empty (the bucket's top level). */
      readonly prefix: string;
      readonly ttlMs: number;
    };

/** Everything the function reads from its environment, checked once at init. */
export interface LambdaConfig {
  readonly settings: SchedulerSettings;
  readonly cluster: ClusterConfig;
  readonly library: LibraryConfig;
  /** Deadline of one submission, retries included. */
  readonly submitTimeoutMs: number;
  /** Messages of one SQS batch scheduled at once. */
  readonly sqsConcurrency: number;
}

/** Names of the variables this module reads, besides the scheduler settings' own. */
export const LAMBDA_VARIABLES = {
  clusterName: "ONDEMAND_EKS_CLUSTER_NAME",
  clusterEndpoint: "ONDEMAND_EKS_CLUSTER_ENDPOINT",
  clusterCa: "ONDEMAND_EKS_CLUSTER_CA_DATA",
  kubeconfig: "ONDEMAND_EKS_KUBECONFIG",
  context: "ONDEMAND_EKS_CONTEXT",
  library: "ONDEMAND_EKS_LIBRARY",
  libraryTtl: "ONDEMAND_EKS_LIBRARY_TTL_SECONDS",
  submitTimeout: "ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS",
  sqsConcurrency: "ONDEMAND_EKS_SQS_CONCURRENCY",
} as const;

/** Every problem with the function's environment, one line each, variable first. */
export class LambdaConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "LambdaConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** A value for an error message: quoted, and cut short so a pasted blob stays readable. */
const shown = (raw: string) => JSON.stringify(raw.length > 60 ? `${raw.slice(0, 57)}...` : raw);

const value = (env: Env, name: string) => {
  const raw = env[name]?.trim();
  return raw === "" ? undefined : raw;
};

function wholeNumber(
  env: Env,
  name: string,
  fallback: number,
  [min, max]: [number, number],
  problems: string[],
): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const parsed = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(parsed >= min && parsed <= max)) {
    problems.push(`${name}: expected a whole number from ${min} to ${max}, received ${shown(raw)}`);
    return fallback;
  }
  return parsed;
}

/** `https://host` or `https://host:port`, and nothing else. */
function isBareHttpsUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return (
    url.protocol === "https:" &&
    url.username === "" &&
    url.password === "" &&
    url.search === "" &&
    url.hash === "" &&
    url.pathname === "/" &&
    !/[?#]/.test(raw)
  );
}

function clusterConfig(env: Env, problems: string[]): ClusterConfig | undefined {
  const v = LAMBDA_VARIABLES;
  const clusterName = value(env, v.clusterName);
  const kubeconfig = value(env, v.kubeconfig);
  const taskRoot = value(env, "LAMBDA_TASK_ROOT") ?? process.cwd();
  if (clusterName && kubeconfig) {
    problems.push(`${v.clusterName}, ${v.kubeconfig}: set one of them, not both`);
    return undefined;
  }
  if (kubeconfig) {
    const context = value(env, v.context);
    const path = isAbsolute(kubeconfig) ? kubeconfig : join(taskRoot, kubeconfig);
    return { kind: "kubeconfig", path, ...(context ? { context } : {}) };
  }
  if (!clusterName) {
    problems.push(
      `${v.clusterName}: required: the EKS cluster's name (or ${v.kubeconfig}: a kubeconfig file for any other cluster)`,
    );
    return undefined;
  }
  const region = value(env, "AWS_REGION") ?? value(env, "AWS_DEFAULT_REGION");
  if (!region) {
    problems.push("AWS_REGION: required (Lambda sets it; set it when running elsewhere)");
    return undefined;
  }
  // eks-auth's own checks, said with the variable instead of its option name.
  const checks: [string, () => unknown][] = [
    [v.clusterName, () => checkClusterName(clusterName)],
    ["AWS_REGION", () => partitionOf(region)],
  ];
  for (const [name, check] of checks) {
    try {
      check();
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message.replace(/^\w+: /, "")}`);
      return undefined;
    }
  }
  const endpoint = value(env, v.clusterEndpoint);
  const caData = value(env, v.clusterCa);
  if ((endpoint === undefined) !== (caData === undefined)) {
    problems.push(
      `${endpoint === undefined ? v.clusterEndpoint : v.clusterCa}: required when ${endpoint === undefined ? v.clusterCa : v.clusterEndpoint} is set (set both, or neither to use DescribeCluster)`,
    );
    return undefined;
  }
  if (endpoint === undefined || caData === undefined) {
    return { kind: "eks", clusterName, region };
  }
  if (!isBareHttpsUrl(endpoint)) {
    // Not echoed: a URL may carry credentials.
    problems.push(
      `${v.clusterEndpoint}: expected https://host[:port], without path, credentials or query`,
    );
    return undefined;
  }
  const caPem = Buffer.from(caData, "base64").toString("utf8");
  if (!/^[A-Za-z0-9+/=\s]+$/.test(caData) || !caPem.includes("-----BEGIN CERTIFICATE-----")) {
    problems.push(
      `${v.clusterCa}: expected the cluster CA as base64 PEM (DescribeCluster's certificateAuthority.data)`,
    );
    return undefined;
  }
  return { kind: "eks", clusterName, region, endpoint, caPem };
}

function libraryConfig(env: Env, problems: string[]): LibraryConfig {
  const v = LAMBDA_VARIABLES;
  const taskRoot = value(env, "LAMBDA_TASK_ROOT") ?? process.cwd();
  const raw = value(env, v.library) ?? "pods";
  const ttlMs = wholeNumber(env, v.libraryTtl, 300, [0, 86_400], problems) * 1000;
  if (!/^s3:/i.test(raw)) {
    return { kind: "directory", path: isAbsolute(raw) ? raw : join(taskRoot, raw) };
  }
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(raw);
  if (!match) {
    problems.push(
      `${v.library}: expected s3://bucket/prefix/ or a directory, received ${shown(raw)}`,
    );
    return { kind: "directory", path: taskRoot };
  }
  const rest = match[2] ?? "";
  const prefix = rest === "" || rest.endsWith("/") ? rest : `${rest}/`;
  return { kind: "s3", bucket: match[1] as string, prefix, ttlMs };
}

/**
 * Reads and checks the function's configuration from environment variables. Throws a
 * {@link LambdaConfigError} listing every problem, so one failed init says all that is
 * wrong.
 */
export function readLambdaConfig(env: Env): LambdaConfig {
  const problems: string[] = [];
  let settings: SchedulerSettings | undefined;
  try {
    settings = settingsFromEnvironment(env);
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    for (const issue of error.issues) problems.push(`${issue.path}: ${issue.message}`);
  }
  const cluster = clusterConfig(env, problems);
  const library = libraryConfig(env, problems);
  const v = LAMBDA_VARIABLES;
  const submitTimeoutMs = wholeNumber(env, v.submitTimeout, 20, [1, 840], problems) * 1000;
  const sqsConcurrency = wholeNumber(env, v.sqsConcurrency, 10, [1, 100], problems);
  if (problems.length > 0 || !settings || !cluster) throw new LambdaConfigError(problems);
  return { settings, cluster, library, submitTimeoutMs, sqsConcurrency };
}
