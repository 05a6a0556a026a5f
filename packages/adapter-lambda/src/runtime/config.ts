import { BUILDKITE_DEFAULT_ENDPOINT, CONTROLLER_SETTINGS } from "@ondemand-eks/controller/settings";
import type { Issue } from "@ondemand-eks/core";
import type { LoadedSettings, Setting } from "@ondemand-eks/core/config";
import {
  RUNTIME_SETTINGS,
  readConfig,
  type SchedulerConfig,
  SETTINGS,
} from "@ondemand-eks/runtime";
import { CLUSTER_TOKEN_ARN, type ClusterTokenSource } from "./controller-config.js";

const c = CONTROLLER_SETTINGS;

/**
 * The settings of the late-event check the event function reads (scope `lambda`): where
 * Buildkite is, the cluster token (by ARN, or the variable for tests), the stacks' prefix
 * and how old an event must be to be checked.
 */
export const LATE_EVENT_SETTINGS: readonly Setting[] = [
  c.buildkiteEndpoint,
  c.clusterToken,
  CLUSTER_TOKEN_ARN,
  c.stackKey,
  c.staleEventMs,
];

/** The late-event check of an event function given a cluster token. */
export interface LateEventConfig {
  readonly token: ClusterTokenSource;
  /** Buildkite's agent API, where the Stacks API is. */
  readonly endpoint: string;
  /** The stack asked: `<stackKey>-<first queue>`, which the controller registers. */
  readonly stack: string;
  /** An event this much older than its job is checked first. */
  readonly staleAfterMs: number;
  /** The loaded settings, for the token given by variable. */
  readonly settings: LoadedSettings;
}

/** Everything the function reads from its environment, checked once at init. */
export interface LambdaConfig {
  readonly scheduler: SchedulerConfig;
  /** Messages of one SQS batch scheduled at once. */
  readonly sqsConcurrency: number;
  /** Absent without a cluster token: no event is checked in Buildkite. */
  readonly lateEvents?: LateEventConfig;
}

/** At most one way to give the token; none is fine (no event is checked). */
function checkToken(settings: LoadedSettings): Issue[] {
  if (settings.get(CLUSTER_TOKEN_ARN) === undefined || settings.get(c.clusterToken) === undefined) {
    return [];
  }
  const path = `${CLUSTER_TOKEN_ARN.env[0]}, ${c.clusterToken.env[0]}`;
  return [{ path, message: "choose one way to give the cluster token" }];
}

/**
 * Reads and checks the function's configuration from its environment variables, through
 * the settings table's `lambda` scope. Relative paths (the library, a kubeconfig) are
 * taken from the function's package (LAMBDA_TASK_ROOT). With a cluster token
 * (`ONDEMAND_EKS_CLUSTER_TOKEN_ARN`, or `BUILDKITE_CLUSTER_TOKEN`), late events are
 * checked in Buildkite (`lateEvents`). Throws `InvalidSettingsError` listing every
 * problem, each naming its variable, so one failed init says all that is wrong.
 *
 * @example
 * const config = await readLambdaConfig(process.env);
 * config.lateEvents?.staleAfterMs; // 60000 when a token is given
 */
export async function readLambdaConfig(
  env: Readonly<Record<string, string | undefined>>,
): Promise<LambdaConfig> {
  const baseDir = env.LAMBDA_TASK_ROOT?.trim() || process.cwd();
  const { scheduler, settings } = await readConfig({
    scope: "lambda",
    env,
    baseDir,
    table: [...SETTINGS, ...LATE_EVENT_SETTINGS],
    check: checkToken,
  });
  const sqsConcurrency = settings.get(RUNTIME_SETTINGS.concurrency) ?? 10;
  const arn = settings.get(CLUSTER_TOKEN_ARN);
  if (arn === undefined && settings.get(c.clusterToken) === undefined) {
    return { scheduler, sqsConcurrency };
  }
  const lateEvents: LateEventConfig = {
    token: arn !== undefined ? { kind: "arn", arn } : { kind: "variable" },
    endpoint: settings.get(c.buildkiteEndpoint) ?? BUILDKITE_DEFAULT_ENDPOINT,
    stack: `${settings.get(c.stackKey) ?? "ondemand-eks"}-${scheduler.settings.queues[0] ?? "default"}`,
    staleAfterMs: settings.get(c.staleEventMs) ?? 60_000,
    settings,
  };
  return { scheduler, sqsConcurrency, lateEvents };
}
