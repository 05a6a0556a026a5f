import {
  dispositionOf,
  type JobManifest,
  type LogFields,
  type Logger,
  type ParseEventOptions,
  type ScheduleOutcome,
  schedule,
} from "@ondemand-eks/core";
import type { PodLibrary } from "@ondemand-eks/pod-library";
import type { S3Sender } from "@ondemand-eks/pod-library/s3";
import { type ClusterAuth, Submitter } from "@ondemand-eks/submitter";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { clusterAuthFor } from "./cluster-auth.js";
import type { SchedulerConfig } from "./config.js";
import { librarySourceFor } from "./library-source.js";
import { createLogger } from "./logger.js";
import type { SchedulerMetrics } from "./metrics.js";

/** What an entry point (or a test) may supply instead of the defaults. */
export interface SchedulerOptions {
  /** Environment for cluster auth and AWS credentials. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The logger; default JSON lines on standard output at the configured level. */
  readonly log?: Logger;
  /**
   * Where outcomes are recorded, for /metrics: `createMetrics()` from
   * `@ondemand-eks/runtime/metrics` (prom-client). Default: none.
   */
  readonly metrics?: SchedulerMetrics;
  /** Cluster auth instead of the one the configuration names. */
  readonly auth?: ClusterAuth;
  /** AWS credentials for an EKS cluster; default the SDK's chain for `env`. */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** Longest wait for DescribeCluster and AWS credentials at start. Default 15 s. */
  readonly authTimeoutMs?: number;
  /** The S3 client of an S3 library: an `S3Client` (any v3 version), or anything with its `send`. */
  readonly s3?: S3Sender;
  /**
   * Buildkite's state of a job, to check an event older than `staleAfterMs` before its Job
   * is made (core's `schedule`): given by entry points that have a cluster token.
   */
  readonly jobState?: (uuid: string) => Promise<string | undefined>;
  /** How old an event must be to be checked. Default 60 s. */
  readonly staleAfterMs?: number;
}

/**
 * The scheduling path with everything it needs built once: settings, pod library,
 * cluster auth, submitter, logger and metrics. Every entry point (the Lambda function,
 * `serve http`, `consume sqs`, `schedule`) runs on one; later loops (a reconciler, a
 * lifecycle controller) attach to it.
 */
export interface Scheduler {
  readonly config: SchedulerConfig;
  readonly log: Logger;
  /** Where outcomes are recorded, when the entry point gave one. */
  readonly metrics: SchedulerMetrics | undefined;
  /** The cluster's submitter; absent when the configuration names no cluster. */
  readonly submitter: Submitter | undefined;
  /**
   * Schedules one event: parse, route, build, submit (or dry-run). Logs one line with
   * the outcome and `context` (the transport's correlation fields: `messageId`,
   * `awsRequestId`, `requestId`), records metrics, and never throws. `parse` names the
   * input's form when the caller knows it (the controller's Stacks API jobs, with their
   * organization).
   */
  schedule(
    input: unknown,
    context?: LogFields,
    parse?: ParseEventOptions,
  ): Promise<ScheduleOutcome>;
  /** The pod library for the next event (an S3 library may have been reloaded). */
  library(): Promise<PodLibrary>;
  /**
   * Adds a loop that runs on this scheduler (a reconciler, a lifecycle controller): its
   * readiness joins `ready()`, and `close()` stops it first.
   */
  attach(attachment: Attachment): void;
  /**
   * Whether the API server answers with our credentials, and everything attached is
   * ready: for readiness probes.
   */
  ready(): Promise<boolean>;
  /** Stops what is attached, then releases connections. The scheduler must not be used afterwards. */
  close(): Promise<void>;
}

/** Something that runs on a scheduler and shares its readiness and its shutdown. */
export interface Attachment {
  ready?(): Promise<boolean> | boolean;
  close?(): Promise<void> | void;
}

/** How loud each outcome's line is: what needs a person is a warning or an error. */
const LEVEL = { acknowledge: "info", "dead-letter": "warn", retry: "error" } as const;

/**
 * Builds the scheduler a configuration describes. Problems with the library or the
 * cluster throw here, at start, not at every event.
 *
 * @example
 * ```ts
 * const { scheduler: config } = await readConfig({ scope: "serve-http", env: process.env });
 * const scheduler = await createScheduler(config, { metrics: createMetrics() });
 * const outcome = await scheduler.schedule(JSON.parse(body), { requestId });
 * ```
 */
export async function createScheduler(
  config: SchedulerConfig,
  options: SchedulerOptions = {},
): Promise<Scheduler> {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger({ level: config.logLevel });
  const metrics = options.metrics;
  const { cluster } = config;
  // Side by side: a Lambda function's init (10 s in all) waits for the longer of the two,
  // not for both one after the other.
  const [source, auth] = await Promise.all([
    librarySourceFor(config.library, {
      env,
      log,
      ...(config.region ? { region: config.region } : {}),
      ...(options.s3 ? { s3: options.s3 } : {}),
    }),
    options.auth ??
      (cluster
        ? clusterAuthFor(cluster, {
            env,
            ...(options.credentials ? { credentials: options.credentials } : {}),
            ...(options.authTimeoutMs ? { timeoutMs: options.authTimeoutMs } : {}),
          })
        : undefined),
  ]);
  const submitter = auth ? new Submitter({ auth, timeoutMs: config.submitTimeoutMs }) : undefined;
  const dryRun = config.dryRun;
  const submit = (manifest: JobManifest) =>
    submitter
      ? submitter.submit(manifest, { dryRun })
      : Promise.reject(new Error("no cluster is configured to submit to"));
  const attached: Attachment[] = [];

  return {
    config,
    log,
    metrics,
    submitter,
    async schedule(input, context = {}, parse = {}) {
      const pods = await source.get();
      const outcome = await schedule(input, {
        ...parse,
        ...(options.jobState ? { jobState: options.jobState } : {}),
        ...(options.staleAfterMs !== undefined ? { staleAfterMs: options.staleAfterMs } : {}),
        settings: config.settings,
        lookup: (name) => pods.get(name),
        submit,
      });
      const { durationMs, ...fields } = outcome;
      try {
        log[LEVEL[dispositionOf(outcome)]]("event", { ...context, ...fields, durationMs });
        if (metrics) {
          metrics.record(outcome.outcome, durationMs / 1000);
          if ("attempts" in outcome && outcome.attempts && outcome.attempts > 1) {
            metrics.retried(outcome.attempts - 1);
          }
        }
      } catch {
        // An injected logger or metrics that throw must not change an event's outcome.
      }
      return outcome;
    },
    library: () => source.get(),
    attach(attachment) {
      attached.push(attachment);
    },
    async ready() {
      const checks = [
        submitter ? submitter.ping() : Promise.resolve(true),
        ...attached.map((attachment) => (attachment.ready ? attachment.ready() : true)),
      ];
      return (await Promise.all(checks)).every(Boolean);
    },
    async close() {
      // What attached last stops first: it may still use what was there before it.
      for (const attachment of [...attached].reverse()) await attachment.close?.();
      submitter?.close();
      source.close?.();
    },
  };
}
