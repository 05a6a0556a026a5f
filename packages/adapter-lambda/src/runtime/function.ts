import type { S3Client } from "@aws-sdk/client-s3";
import { type ScheduleOutcome, schedule } from "@ondemand-eks/core";
import { eksAuth } from "@ondemand-eks/eks-auth";
import { type ClusterAuth, kubeconfigAuth, Submitter } from "@ondemand-eks/submitter";
import {
  eventBridgeHandler,
  type SqsBatchResponse,
  type SqsEvent,
  sqsHandler,
} from "../handlers.js";
import {
  LAMBDA_VARIABLES,
  type LambdaConfig,
  LambdaConfigError,
  readLambdaConfig,
} from "./config.js";
import { directoryLibrary, type PodLibrarySource } from "./library-source.js";

/** The two handlers a deployed function exports; the template picks one. */
export interface LambdaFunction {
  readonly config: LambdaConfig;
  readonly eventBridge: (event: unknown) => Promise<ScheduleOutcome>;
  readonly sqs: (event: SqsEvent) => Promise<SqsBatchResponse>;
}

/** What tests (and embedders) may replace. */
export interface LambdaFunctionOverrides {
  readonly auth?: ClusterAuth;
  readonly s3?: S3Client;
  /** One line of output; default: stdout, which Lambda sends to CloudWatch Logs. */
  readonly write?: (line: string) => void;
}

/** Runs an init step; its error says which variable to look at. */
async function withVariable<T>(variable: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const { message } = error as Error;
    throw new LambdaConfigError([`${variable}: ${message}`]);
  }
}

async function clusterAuth(config: LambdaConfig): Promise<ClusterAuth> {
  const { cluster } = config;
  if (cluster.kind === "kubeconfig") {
    return kubeconfigAuth({
      path: cluster.path,
      ...(cluster.context ? { context: cluster.context } : {}),
    });
  }
  return eksAuth({
    clusterName: cluster.clusterName,
    region: cluster.region,
    // Lambda gives init 10 s in all; DescribeCluster and credentials must leave room.
    timeoutMs: 5_000,
    ...(cluster.endpoint && cluster.caPem
      ? { endpoint: cluster.endpoint, caPem: cluster.caPem }
      : {}),
  });
}

/**
 * Everything a function instance keeps between events, built once at init: the
 * configuration (checked), the submitter and its token cache, and the pod library.
 * A configuration problem throws here, so the function fails to initialise with a
 * message that names the variable instead of failing every event.
 */
export async function createLambdaFunction(
  env: Readonly<Record<string, string | undefined>>,
  overrides: LambdaFunctionOverrides = {},
): Promise<LambdaFunction> {
  const config = readLambdaConfig(env);
  const write = overrides.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const log = (entry: Record<string, unknown>) => {
    try {
      write(JSON.stringify({ time: new Date().toISOString(), ...entry }));
    } catch {
      // Logging must never be what fails an event.
    }
  };
  const library = await withVariable(LAMBDA_VARIABLES.library, () =>
    config.library.kind === "directory"
      ? directoryLibrary(config.library.path)
      : s3LibraryFor(config.library, overrides.s3, log),
  );
  const submitter = new Submitter({
    auth:
      overrides.auth ??
      (await withVariable(
        config.cluster.kind === "kubeconfig"
          ? LAMBDA_VARIABLES.kubeconfig
          : LAMBDA_VARIABLES.clusterName,
        () => clusterAuth(config),
      )),
    timeoutMs: config.submitTimeoutMs,
  });
  const scheduleEvent = async (input: unknown): Promise<ScheduleOutcome> => {
    const pods = await library.get();
    return schedule(input, {
      settings: config.settings,
      lookup: (name) => pods.get(name),
      submit: (manifest) => submitter.submit(manifest),
      log: ({ durationMs, ...outcome }) => log({ msg: "event", durationMs, ...outcome }),
    });
  };
  return {
    config,
    eventBridge: eventBridgeHandler({ schedule: scheduleEvent }),
    sqs: sqsHandler({ schedule: scheduleEvent, concurrency: config.sqsConcurrency, log }),
  };
}

/**
 * The S3 library source, loaded only when the library is in S3: the S3 client is a large
 * part of the bundle, and a function with its library bundled should not pay for it at
 * every cold start.
 */
async function s3LibraryFor(
  library: Extract<LambdaConfig["library"], { kind: "s3" }>,
  client: S3Client | undefined,
  log: (entry: Record<string, unknown>) => void,
): Promise<PodLibrarySource> {
  const { s3Library, defaultS3Client } = await import("./s3-library.js");
  return s3Library({
    client: client ?? defaultS3Client(),
    bucket: library.bucket,
    prefix: library.prefix,
    ttlMs: library.ttlMs,
    log,
  });
}
