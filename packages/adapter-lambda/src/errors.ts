import { OndemandEksError, type ScheduleOutcome } from "@ondemand-eks/core";

/**
 * An event the scheduler could not take (code `SCHEDULE_FAILED`); Lambda retries it or
 * sends it to its on-failure destination. `outcome` says which and why.
 */
export class ScheduleFailedError extends OndemandEksError {
  constructor(readonly outcome: ScheduleOutcome) {
    super("SCHEDULE_FAILED", `${outcome.outcome}: ${"reason" in outcome ? outcome.reason : ""}`);
    this.name = "ScheduleFailedError";
  }
}

/**
 * The cluster token could not be read from the secret or parameter that
 * `ONDEMAND_EKS_CLUSTER_TOKEN_ARN` names (code `INVALID_SETTINGS`: the function cannot
 * start without it). The message names the ARN and why, never the token; `cause` is
 * the AWS SDK's error.
 */
export class ClusterTokenUnavailableError extends OndemandEksError {
  constructor(
    readonly arn: string,
    reason: string,
    options?: { readonly cause?: unknown },
  ) {
    super(
      "INVALID_SETTINGS",
      [{ path: "ONDEMAND_EKS_CLUSTER_TOKEN_ARN", message: `cannot read ${arn}: ${reason}` }],
      options,
    );
    this.name = "ClusterTokenUnavailableError";
  }
}

/** Why a scheduled controller pass is reported to Lambda as an error. */
export type ControllerPassFailure = "blocked" | "incomplete";

/**
 * A scheduled controller pass that Lambda must record as an error, so its Errors metric
 * (and an alarm on it) shows it: Buildkite refused the cluster token (`blocked`, code
 * `INVALID_SETTINGS`: a person must replace the token), or the pass could not read
 * Buildkite or the cluster (`incomplete`, code `SCHEDULE_FAILED`: the next scheduled pass
 * tries again).
 */
export class ControllerPassError extends OndemandEksError {
  constructor(
    readonly failure: ControllerPassFailure,
    message: string,
  ) {
    super(failure === "blocked" ? "INVALID_SETTINGS" : "SCHEDULE_FAILED", message);
    this.name = "ControllerPassError";
  }
}
