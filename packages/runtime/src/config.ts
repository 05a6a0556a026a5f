import { dirname, isAbsolute, join, resolve } from "node:path";
import {
  hasErrorCode,
  InvalidSettingsError,
  type Issue,
  type SchedulerSettings,
} from "@ondemand-eks/core";
import {
  type LoadedSettings,
  loadSettings,
  type Scope,
  type Setting,
  type SettingSources,
  schedulerSettingsFrom,
} from "@ondemand-eks/core/config";
import { type LogLevel, RUNTIME_SETTINGS, SETTINGS } from "./settings.js";

/** Where the scheduler finds its cluster, and how it authenticates. */
export type ClusterConfig =
  | {
      readonly kind: "eks";
      readonly clusterName: string;
      readonly region: string;
      /** Both or neither: given, no DescribeCluster call is made. */
      readonly endpoint?: string;
      readonly caPem?: string;
    }
  | { readonly kind: "in-cluster" }
  | {
      readonly kind: "kubeconfig";
      /** Absent: $KUBECONFIG (a list is merged), then ~/.kube/config. */
      readonly path?: string;
      readonly context?: string;
    };

/** Where the pod library comes from. */
export type LibraryConfig =
  | { readonly kind: "bundled" }
  | { readonly kind: "directory"; readonly path: string }
  | {
      readonly kind: "s3";
      readonly bucket: string;
      /** Key prefix, ending in "/" unless empty (the bucket's top level). */
      readonly prefix: string;
      readonly ttlMs: number;
    };

/** Everything {@link createScheduler} needs, checked. */
export interface SchedulerConfig {
  readonly settings: SchedulerSettings;
  readonly library: LibraryConfig;
  /** Absent for entry points that never reach a cluster (render). */
  readonly cluster?: ClusterConfig;
  /** Deadline of one submission, retries included. */
  readonly submitTimeoutMs: number;
  /**
   * Submit every Job as a server-side dry run: outcomes are `dry-run`, nothing is stored.
   * A `dry-run` outcome is acknowledged, so a transport that deletes what it acknowledges
   * (an SQS queue) must not run on a dry-run scheduler: the settings table offers dry runs
   * only to `schedule` and `serve http`.
   */
  readonly dryRun: boolean;
  /** The AWS region of an S3 library's client (and of the EKS cluster); default the environment's. */
  readonly region?: string;
  readonly logLevel: LogLevel;
}

/** A scheduler's configuration, and the loaded settings for an entry point's own. */
export interface EntryPointConfig {
  readonly scheduler: SchedulerConfig;
  readonly settings: LoadedSettings;
}

export interface ReadConfigOptions extends SettingSources {
  /** Relative paths (library, kubeconfig) are taken from here. Default: the working directory. */
  readonly baseDir?: string;
  /**
   * The settings to read: {@link SETTINGS} and an entry point's own (the command adds
   * its listener and SQS settings). Default {@link SETTINGS}.
   */
  readonly table?: readonly Setting[];
  /**
   * An entry point's own checks of its settings (one of two settings set, say), reported
   * with every other problem.
   */
  readonly check?: (settings: LoadedSettings) => readonly Issue[];
}

/**
 * Reads and checks an entry point's configuration from its sources (config file,
 * environment, flags), through the one settings table. Throws
 * {@link InvalidSettingsError} listing every problem, each naming where its value came
 * from, so one failed start says all that is wrong.
 *
 * @example
 * ```ts
 * const { scheduler } = await readConfig({ scope: "lambda", env: process.env });
 * const running = await createScheduler(scheduler);
 * ```
 */
export async function readConfig(options: ReadConfigOptions): Promise<EntryPointConfig> {
  const { settings, issues } = loadSettings(options.table ?? SETTINGS, options);
  const problems = [...issues];
  let scheduler: SchedulerSettings | undefined;
  try {
    scheduler = schedulerSettingsFrom(settings);
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    problems.push(...error.issues);
  }
  const baseDir = options.baseDir ?? process.cwd();
  const library = libraryConfig(settings, baseDir, problems);
  const cluster = await clusterConfig(settings, options.scope, baseDir, problems);
  problems.push(...(options.check?.(settings) ?? []));
  if (problems.length > 0 || !scheduler) throw new InvalidSettingsError(problems);
  const r = RUNTIME_SETTINGS;
  return {
    settings,
    scheduler: {
      settings: scheduler,
      library,
      ...(cluster ? { cluster } : {}),
      submitTimeoutMs: settings.get(r.submitTimeoutMs) ?? 30_000,
      dryRun: settings.get(r.dryRun) ?? false,
      ...(settings.get(r.region) ? { region: settings.get(r.region) } : {}),
      logLevel: settings.get(r.logLevel) ?? "info",
    },
  };
}

/**
 * A path setting made absolute: relative to the config file that set it, otherwise to
 * `baseDir` (the working directory, or the Lambda function's package).
 */
function resolved(settings: LoadedSettings, key: string, path: string, baseDir: string): string {
  if (isAbsolute(path)) return path;
  const origin = settings.origin(key);
  // A config file's origin is `config <file>: <key>`.
  const suffix = `: ${key}`;
  const file =
    origin?.startsWith("config ") && origin.endsWith(suffix)
      ? origin.slice("config ".length, -suffix.length)
      : undefined;
  return file ? join(dirname(resolve(baseDir, file)), path) : join(baseDir, path);
}

function where(settings: LoadedSettings, key: string, fallback: string): string {
  return settings.origin(key) ?? fallback;
}

function libraryConfig(
  settings: LoadedSettings,
  baseDir: string,
  problems: Issue[],
): LibraryConfig {
  const r = RUNTIME_SETTINGS;
  const raw = settings.get(r.library);
  if (raw === undefined) return { kind: "bundled" };
  if (!/^s3:/i.test(raw)) {
    return { kind: "directory", path: resolved(settings, r.library.key, raw, baseDir) };
  }
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(raw);
  if (!match) {
    problems.push({
      path: where(settings, r.library.key, r.library.key),
      message: `expected s3://bucket/prefix/ or a directory, received ${JSON.stringify(raw)}`,
    });
    return { kind: "bundled" };
  }
  const rest = match[2] ?? "";
  const prefix = rest === "" || rest.endsWith("/") ? rest : `${rest}/`;
  const ttlMs = (settings.get(r.libraryTtlSeconds) ?? 300) * 1000;
  return { kind: "s3", bucket: match[1] as string, prefix, ttlMs };
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

type Located = { readonly key: string; readonly flag?: string; readonly env: readonly string[] };

async function clusterConfig(
  settings: LoadedSettings,
  scope: Scope,
  baseDir: string,
  problems: Issue[],
): Promise<ClusterConfig | undefined> {
  const r = RUNTIME_SETTINGS;
  if (!r.kubeconfig.scopes.includes(scope)) return undefined;
  // Where a value came from; for one that is missing, how this entry point would set it.
  const at = (declaration: Located) =>
    where(
      settings,
      declaration.key,
      (scope === "lambda" ? declaration.env[0] : declaration.flag) ?? declaration.key,
    );
  const kubeconfig = settings.get(r.kubeconfig);
  const context = settings.get(r.context);
  const inCluster = settings.get(r.inCluster) ?? false;
  const clusterName = settings.get(r.eksCluster);

  const kubeconfigGiven = [
    kubeconfig !== undefined && at(r.kubeconfig),
    context !== undefined && at(r.context),
  ]
    .filter(Boolean)
    .join(", ");
  const chosen = [
    clusterName !== undefined && at(r.eksCluster),
    inCluster && at(r.inCluster),
    kubeconfigGiven,
  ].filter((given): given is string => typeof given === "string" && given !== "");
  if (chosen.length > 1) {
    problems.push({
      path: chosen.join(", "),
      message: "choose one cluster: an EKS cluster, in-cluster, or a kubeconfig",
    });
    return undefined;
  }
  if (inCluster) return { kind: "in-cluster" };
  if (clusterName === undefined) {
    if (scope === "lambda" && kubeconfig === undefined) {
      problems.push({
        path: r.eksCluster.env[0] as string,
        message: `required: the EKS cluster's name (or ${r.kubeconfig.env[0]}: a kubeconfig file for any other cluster)`,
      });
      return undefined;
    }
    return {
      kind: "kubeconfig",
      ...(kubeconfig !== undefined
        ? { path: resolved(settings, r.kubeconfig.key, kubeconfig, baseDir) }
        : {}),
      ...(context !== undefined ? { context } : {}),
    };
  }
  return eksConfig(settings, clusterName, at, problems);
}

/**
 * An EKS cluster's settings, checked by eks-auth (imported only when one is configured).
 * Every problem is reported, not only the first.
 */
async function eksConfig(
  settings: LoadedSettings,
  clusterName: string,
  at: (declaration: Located) => string,
  problems: Issue[],
): Promise<ClusterConfig | undefined> {
  const r = RUNTIME_SETTINGS;
  const found: Issue[] = [];
  const region = settings.get(r.region);
  const { checkClusterName, partitionOf } = await import("@ondemand-eks/eks-auth");
  const checks: [string, () => unknown][] = [
    [at(r.eksCluster), () => checkClusterName(clusterName)],
  ];
  if (region === undefined) {
    const path = at(r.region);
    // A flag's error names the variables too; a variable's (the Lambda's) is enough alone.
    const or = path.startsWith("--") ? ` (or set ${r.region.env.join(" or ")})` : "";
    found.push({ path, message: `required with an EKS cluster${or}` });
  } else {
    checks.push([at(r.region), () => partitionOf(region)]);
  }
  for (const [path, check] of checks) {
    try {
      check();
    } catch (error) {
      // eks-auth names its option ("clusterName"); said here with the source instead.
      const message = hasErrorCode(error, "EKS_INVALID_OPTIONS")
        ? error.issues.map((issue) => issue.message).join("; ")
        : (error as Error).message;
      found.push({ path, message });
    }
  }
  const endpoint = settings.get(r.eksEndpoint);
  const caData = settings.get(r.eksCaData);
  let caPem: string | undefined;
  if ((endpoint === undefined) !== (caData === undefined)) {
    const [missing, given] =
      endpoint === undefined ? [r.eksEndpoint, r.eksCaData] : [r.eksCaData, r.eksEndpoint];
    found.push({
      path: at(missing),
      message: `required when ${at(given)} is set (set both, or neither to use DescribeCluster)`,
    });
  } else if (endpoint !== undefined && caData !== undefined) {
    if (!isBareHttpsUrl(endpoint)) {
      // Not echoed: a URL may carry credentials.
      found.push({
        path: at(r.eksEndpoint),
        message: "expected https://host[:port], without path, credentials or query",
      });
    }
    caPem = Buffer.from(caData, "base64").toString("utf8");
    if (!/^[A-Za-z0-9+/=\s]+$/.test(caData) || !caPem.includes("-----BEGIN CERTIFICATE-----")) {
      found.push({
        path: at(r.eksCaData),
        message:
          "expected the cluster CA as base64 PEM (DescribeCluster's certificateAuthority.data)",
      });
    }
  }
  problems.push(...found);
  if (found.length > 0 || region === undefined) return undefined;
  return endpoint !== undefined && caPem !== undefined
    ? { kind: "eks", clusterName, region, endpoint, caPem }
    : { kind: "eks", clusterName, region };
}
