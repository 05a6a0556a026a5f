/**
 * Buildkite job states, sorted by what they let the controller do to the job's Kubernetes
 * Job. Pure.
 *
 * @module
 */

/** Waiting for an agent, none has it: the controller may fail the job. */
const UNCLAIMED = new Set(["scheduled", "reserved"]);

/** An agent owns the job: its result is the agent's to report; the controller only tells the user. */
const AGENT_OWNED = new Set(["assigned", "accepted", "running"]);

/**
 * The job will never run again: its Job can be stopped. `canceling` and `timing_out` are
 * not here: an agent still holds the job and ends it itself.
 */
const TERMINAL = new Set([
  "finished",
  "canceled",
  "expired",
  "timed_out",
  "skipped",
  "broken",
  "waiting_failed",
  "blocked_failed",
  "unblocked_failed",
]);

/** What a state means for the controller; `unknown` when Buildkite did not say. */
export type StateClass = "unknown" | "unclaimed" | "agent-owned" | "terminal" | "other";

/**
 * The class of a Buildkite job state (`undefined`: not read).
 *
 * @example
 * ```ts
 * classifyState("reserved"); // "unclaimed"
 * classifyState("canceled"); // "terminal"
 * ```
 */
export function classifyState(state: string | undefined): StateClass {
  if (state === undefined) return "unknown";
  if (UNCLAIMED.has(state)) return "unclaimed";
  if (AGENT_OWNED.has(state)) return "agent-owned";
  if (TERMINAL.has(state)) return "terminal";
  return "other";
}
