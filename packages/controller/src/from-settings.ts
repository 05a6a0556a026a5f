import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { InvalidSettingsError, type Issue } from "@ondemand-eks/core";
import type { LoadedSettings } from "@ondemand-eks/core/config";
import type { Scheduler } from "@ondemand-eks/runtime";
import { Controller } from "./controller.js";
import { LeaderLease } from "./lease.js";
import type { ControllerMetrics } from "./metrics.js";
import { QueueMetricsClient } from "./pools/queue-metrics.js";
import { PoolScaler } from "./pools/scaler.js";
import { BUILDKITE_DEFAULT_ENDPOINT, CONTROLLER_SETTINGS } from "./settings.js";
import { StacksClient } from "./stacks/client.js";

const c = CONTROLLER_SETTINGS;

/** The shortest cluster token Buildkite issues is far longer; shorter is a mistake. */
const MIN_TOKEN_LENGTH = 20;

/**
 * The controller's checks of its settings, reported with every other problem: one of
 * the two ways to give the cluster token.
 */
export function checkControllerSettings(settings: LoadedSettings): Issue[] {
  if (
    settings.get(c.clusterToken) === undefined &&
    settings.get(c.clusterTokenFile) === undefined
  ) {
    return [
      {
        path: `${c.clusterToken.env[0]}, ${c.clusterTokenFile.flag}`,
        message:
          "required: a Buildkite cluster agent token, in the variable or in a file (never a flag: ps shows flags)",
      },
    ];
  }
  return [];
}

/**
 * The cluster token from its file (read by `readFile`) or its variable. Throws
 * {@link InvalidSettingsError} naming where it came from, never the token.
 */
export async function clusterTokenFrom(
  settings: LoadedSettings,
  readFile: (path: string) => Promise<string>,
): Promise<string> {
  const file = settings.get(c.clusterTokenFile);
  const token = (file ? await readFile(file) : (settings.get(c.clusterToken) ?? "")).trim();
  const where = file ? `${c.clusterTokenFile.flag} ${file}` : (c.clusterToken.env[0] as string);
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new InvalidSettingsError([
      {
        path: where,
        message:
          token === ""
            ? "is empty: expected a Buildkite cluster agent token"
            : "does not look like a Buildkite cluster agent token (too short, or with spaces)",
      },
    ]);
  }
  return token;
}

export interface ControllerFromSettingsOptions {
  readonly token: string;
  readonly metrics?: ControllerMetrics;
  /** This replica's name in the Lease; default the host name (the pod's) and a random suffix. */
  readonly identity?: string;
}

/**
 * The controller a configuration describes, on `scheduler` (whose cluster it acts on)
 * and attached to it: closing the scheduler stops the controller.
 *
 * @example
 * const controller = controllerFromSettings(settings, scheduler, { token });
 * controller.start();
 */
export function controllerFromSettings(
  settings: LoadedSettings,
  scheduler: Scheduler,
  options: ControllerFromSettingsOptions,
): Controller {
  const submitter = scheduler.submitter;
  if (!submitter) throw new Error("the controller needs a cluster: none is configured");
  const api = submitter.api();
  const metrics = options.metrics;
  const stacks = new StacksClient({
    endpoint: settings.get(c.buildkiteEndpoint) ?? BUILDKITE_DEFAULT_ENDPOINT,
    token: options.token,
    ...(metrics ? { onRequest: metrics.stacksRequest } : {}),
  });
  const durationMs = settings.get(c.leaseDurationMs) ?? 15_000;
  const lease = new LeaderLease({
    api,
    namespace: settings.get(c.leaseNamespace) ?? "ondemand-eks",
    name: settings.get(c.leaseName) ?? "ondemand-eks-controller",
    identity: options.identity ?? `${hostname()}-${randomUUID().slice(0, 8)}`,
    durationMs,
  });
  const jobSettings = scheduler.config.settings;
  const endpoint = settings.get(c.buildkiteEndpoint) ?? BUILDKITE_DEFAULT_ENDPOINT;
  const scaling = (settings.get(c.poolScaling) ?? "on") === "on";
  const pools =
    (settings.get(c.pools) ?? "manage") === "off"
      ? undefined
      : {
          definitions: async () => (await scheduler.library()).definitions(),
          settings: jobSettings,
          manage: true,
          decideOnly: !scaling,
          intervalMs: settings.get(c.poolIntervalMs) ?? 10_000,
          scaler: new PoolScaler({
            api,
            metrics: new QueueMetricsClient({
              endpoint,
              token: options.token,
              ...(metrics ? { onRead: metrics.queueMetricsRead } : {}),
            }),
            settings: jobSettings,
            log: scheduler.log,
            // Off: KEDA or an HPA sets the replicas; the desired count is still served.
            apply: scaling,
            ...(metrics ? { observer: metrics } : {}),
          }),
        };
  const controller = new Controller({
    scheduler,
    api,
    stacks,
    lease,
    queues: jobSettings.queues,
    namespaces: [jobSettings.namespace, jobSettings.privilegedNamespace],
    stackKey: settings.get(c.stackKey) ?? "ondemand-eks",
    limits: {
      graceMs: settings.get(c.imagePullGraceMs) ?? 30_000,
      pendingTimeoutMs: settings.get(c.pendingTimeoutMs) ?? 900_000,
      emptyJobGraceMs: settings.get(c.emptyJobGraceMs) ?? 30_000,
      stoppedRetentionMs: settings.get(c.stoppedRetentionMs) ?? 3_600_000,
      ...(jobSettings.maxInFlight ? { maxInFlight: jobSettings.maxInFlight } : {}),
      ...(jobSettings.maxInFlightTotal ? { maxInFlightTotal: jobSettings.maxInFlightTotal } : {}),
    },
    intervalMs: settings.get(c.reconcileIntervalMs) ?? 10_000,
    // Renewed three times per lease duration, as client-go does by default (2 s of 15).
    leaseRetryMs: Math.max(500, Math.floor(durationMs / 7)),
    log: scheduler.log,
    ...(metrics ? { metrics } : {}),
    ...(pools ? { pools } : {}),
  });
  scheduler.attach(controller);
  return controller;
}

/**
 * For an entry point (`serve http`, `consume sqs`) given a cluster token: Buildkite's state
 * of a job, read through the stack of its first queue (the controller registers the
 * stacks), and how old an event must be to be checked. Undefined without a token.
 *
 * @example
 * const check = await lateEventCheck(settings, scheduler.config.settings.queues, readFile);
 * const scheduler = await createScheduler(config, { ...check });
 */
export async function lateEventCheck(
  settings: LoadedSettings,
  queues: readonly string[],
  readFile: (path: string) => Promise<string>,
): Promise<
  { jobState: (uuid: string) => Promise<string | undefined>; staleAfterMs: number } | undefined
> {
  if (
    settings.get(c.clusterToken) === undefined &&
    settings.get(c.clusterTokenFile) === undefined
  ) {
    return undefined;
  }
  const stacks = new StacksClient({
    endpoint: settings.get(c.buildkiteEndpoint) ?? BUILDKITE_DEFAULT_ENDPOINT,
    token: await clusterTokenFrom(settings, readFile),
    // One quick look: a late event waits for it, and a failure only means the Job is made.
    timeoutMs: 2_000,
  });
  const stack = `${settings.get(c.stackKey) ?? "ondemand-eks"}-${queues[0] ?? "default"}`;
  return {
    jobState: async (uuid) => (await stacks.states(stack, [uuid])).get(uuid),
    staleAfterMs: settings.get(c.staleEventMs) ?? 60_000,
  };
}
