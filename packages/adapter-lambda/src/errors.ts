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
