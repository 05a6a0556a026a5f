/**
 * The event function's check of a late event in Buildkite, loaded (with the controller's
 * Stacks client) only when a cluster token is configured, so a function without one
 * loads none of it at init.
 *
 * @module
 */
import { clusterTokenFrom, StacksClient } from "@ondemand-eks/controller";
import { readClusterToken } from "./cluster-token.js";
import type { LateEventConfig } from "./config.js";

/** What the scheduler is given: Buildkite's state of a job, and when to ask. */
export interface LateEventCheck {
  readonly jobState: (uuid: string) => Promise<string | undefined>;
  readonly staleAfterMs: number;
}

export interface LateEventCheckOptions {
  /** Credentials and endpoint overrides for the token's service. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Deadline of the token's read; default 4 s (Lambda's init has 10 s in all). */
  readonly tokenTimeoutMs?: number;
}

/**
 * Reads the cluster token once (from the secret or parameter its ARN names, or from
 * `BUILDKITE_CLUSTER_TOKEN`) and returns the check: one quick look at the job's state
 * through the stack `<stackKey>-<first queue>`, 2 s at most, since a late event waits
 * for it and a failed look only means the Job is made. Throws
 * `ClusterTokenUnavailableError` (naming the ARN) or `InvalidSettingsError` (naming the
 * variable) when there is no usable token.
 *
 * @example
 * const check = await lateEventCheck(config.lateEvents, { env: process.env });
 * await check.jobState("0190a3bf-..."); // "canceled"
 */
export async function lateEventCheck(
  config: LateEventConfig,
  options: LateEventCheckOptions,
): Promise<LateEventCheck> {
  const token =
    config.token.kind === "arn"
      ? await readClusterToken(config.token.arn, {
          env: options.env,
          ...(options.tokenTimeoutMs !== undefined ? { timeoutMs: options.tokenTimeoutMs } : {}),
        })
      : await clusterTokenFrom(config.settings, () => Promise.reject(new Error("no token file")));
  const stacks = new StacksClient({ endpoint: config.endpoint, token, timeoutMs: 2_000 });
  return {
    jobState: async (uuid) => (await stacks.states(config.stack, [uuid])).get(uuid),
    staleAfterMs: config.staleAfterMs,
  };
}
