/**
 * One pass of the lifecycle controller, decided: from the Jobs it sees and what Buildkite
 * just said, the actions to take. Pure: the controller reads, calls {@link planPass}, and
 * acts; every action is idempotent, so a pass cut short is simply planned again.
 *
 * Safety first: a Job is only failed, stopped or held on a Buildkite state read in this
 * pass, and only failed while no agent has its job. Without Buildkite, the pass only
 * resumes, deletes old tombstones and schedules what was listed.
 *
 * @module
 */
import { type AdmissionCandidate, admit } from "./admission.js";
import { jobFailureOf } from "./job-failure.js";
import { classifyState, type StateClass } from "./job-states.js";
import type { ObservedJob } from "./observe.js";

export interface PassLimits {
  /** Pull errors and missing Secrets or ConfigMaps are given this long (ms). */
  graceMs: number;
  /** A pod still pending after this long (ms) has failed to start. */
  pendingTimeoutMs: number;
  /** A running Job with no pod after this long (ms) gets none. */
  emptyJobGraceMs: number;
  /** A stopped Job is kept this long (ms), so its job is not scheduled again, then deleted. */
  stoppedRetentionMs: number;
  /** Most Jobs running at once per queue; unset: no cap. */
  maxInFlight?: number;
  /** Most Jobs running at once over every served queue; unset: no cap. */
  maxInFlightTotal?: number;
}

export interface QueueListing {
  readonly paused: boolean;
  readonly jobs: readonly { readonly uuid: string; readonly priority: number }[];
}

export interface PassInput {
  /** Milliseconds since the epoch, now. */
  readonly now: number;
  /** Served queues; Jobs of other queues are left alone entirely. */
  readonly queues: readonly string[];
  readonly jobs: readonly ObservedJob[];
  /**
   * Buildkite states just read for the jobs' uuids (Stacks API get-states); undefined when
   * Buildkite could not be read. A uuid missing from the map: unknown.
   */
  readonly states: ReadonlyMap<string, string> | undefined;
  /** Per served queue, its scheduled jobs just listed (all pages); a queue absent here could not be read. */
  readonly listings: ReadonlyMap<string, QueueListing>;
  readonly limits: PassLimits;
}

export type PassAction =
  /** Listed as scheduled, no Job for it: the controller runs the scheduling path. */
  | { kind: "schedule"; uuid: string; queue: string }
  /** No agent has the job and it cannot run: finish it (exit -1, with detail), then stop the Job. */
  | { kind: "fail"; job: ObservedJob; reason: string; detail: string }
  /** An agent owns the job, but Kubernetes is in its way: tell the user, once. */
  | { kind: "notify"; job: ObservedJob; reason: string; detail: string }
  /** The Buildkite job is over and no pod runs: suspend the Job and mark it stopped. */
  | { kind: "stop"; job: ObservedJob; reason: "cancelled" | "finished" }
  /** Its queue is paused: suspend the Job (no stopped mark) until it is resumed. */
  | { kind: "hold"; job: ObservedJob }
  /** Within the caps, queue not paused: let the Job make its pod. */
  | { kind: "resume"; job: ObservedJob }
  /** Stopped longer than `stoppedRetentionMs` ago: the tombstone can go. */
  | { kind: "delete"; job: ObservedJob };

export interface PassPlan {
  readonly actions: readonly PassAction[];
  /** Per served queue, Jobs running and waiting to be resumed, before the actions. */
  readonly counts: ReadonlyMap<string, { running: number; waiting: number }>;
}

const hasRunningPod = (job: ObservedJob) => job.pods.some((p) => p.status?.phase === "Running");

/**
 * A pod that got past Pending: its agent may have run the job (a Buildkite job that
 * finished while its pod exits, Complete moments later), so the Job is left to end by
 * itself rather than stopped.
 */
const hasStartedPod = (job: ObservedJob) =>
  job.pods.some((p) => p.status?.phase !== undefined && p.status.phase !== "Pending");

/** Counts against the caps: making or running its pod. */
const isRunning = (job: ObservedJob) =>
  !job.suspended && job.stopped === undefined && job.outcome === "running";

/** Suspended and still wanted: a candidate for resuming. */
const isWaiting = (job: ObservedJob, state: StateClass) =>
  job.suspended && job.stopped === undefined && job.outcome === "running" && state !== "terminal";

/**
 * What one Job needs apart from admission, or `undefined`. Each Job gets at most one
 * action, the most urgent: a failure before a stop before a hold.
 */
function actionFor(
  job: ObservedJob,
  state: StateClass,
  rawState: string | undefined,
  input: PassInput,
): PassAction | undefined {
  const { now, limits } = input;
  if (job.stopped !== undefined) {
    return now - job.stopped.at >= limits.stoppedRetentionMs ? { kind: "delete", job } : undefined;
  }
  // Every other action rests on Buildkite's word from this pass.
  if (state === "unknown" || state === "other") return undefined;
  if (state === "terminal") {
    // A Buildkite job that is over is never failed: its agent exiting 27 is normal. Only
    // a Job whose agent never started is stopped: one that waits, or whose pods all pend.
    if (job.outcome !== "running" || hasStartedPod(job)) return undefined;
    return { kind: "stop", job, reason: rawState === "canceled" ? "cancelled" : "finished" };
  }
  const owned = state === "agent-owned";
  if (job.outcome !== "succeeded") {
    const failure = jobFailureOf(job, { ...limits, now }, owned);
    if (failure && !owned) {
      return { kind: "fail", job, reason: failure.reason, detail: failure.detail };
    }
    // The agent reports its own job's end; the user only needs to hear what Kubernetes
    // did that the agent cannot say (out of memory, a deadline, an image it cannot pull).
    // A Job with no pod while an agent owns the job means that agent is not ours: nothing to say.
    if (failure?.imposed && failure.reason !== "NoPod" && owned && !job.notified) {
      return { kind: "notify", job, reason: failure.reason, detail: failure.detail };
    }
  }
  const paused = input.listings.get(job.queue)?.paused === true;
  if (paused && !owned && isRunning(job) && !hasRunningPod(job)) return { kind: "hold", job };
  return undefined;
}

/** Listed jobs of unpaused queues that have no Job at all (any queue, any namespace, stopped or not). */
function toSchedule(input: PassInput): PassAction[] {
  const known = new Set(input.jobs.map((job) => job.uuid));
  const actions: PassAction[] = [];
  for (const queue of input.queues) {
    const listing = input.listings.get(queue);
    if (!listing || listing.paused) continue;
    for (const { uuid } of listing.jobs) {
      if (known.has(uuid)) continue;
      known.add(uuid);
      actions.push({ kind: "schedule", uuid, queue });
    }
  }
  return actions;
}

/**
 * Decides one pass: failures to report, Jobs to stop, hold, resume or delete, and listed
 * jobs to schedule. At most one action per Job; Jobs of queues not in `queues` get none
 * and count nowhere. A queue whose listing could not be read counts as not paused:
 * admission is Kubernetes' business and should not stall on a Buildkite outage.
 *
 * @example
 * ```ts
 * const plan = planPass({ now: Date.now(), queues: ["default"], jobs, states, listings, limits });
 * for (const action of plan.actions) await act(action);
 * ```
 */
export function planPass(input: PassInput): PassPlan {
  const served = new Set(input.queues);
  const counts = new Map(input.queues.map((q) => [q, { running: 0, waiting: 0 }]));
  const actions: PassAction[] = [];
  const waiting: (AdmissionCandidate & { job: ObservedJob })[] = [];
  const running = new Map<string, number>();
  // The listing's priority is Buildkite's current one (a job can be reprioritised).
  const listedPriority = new Map<string, number>();
  for (const listing of input.listings.values()) {
    for (const { uuid, priority } of listing.jobs) listedPriority.set(uuid, priority);
  }

  for (const job of input.jobs) {
    const count = counts.get(job.queue);
    if (!served.has(job.queue) || !count) continue;
    const rawState = input.states?.get(job.uuid);
    const state = input.states === undefined ? "unknown" : classifyState(rawState);
    const listing = input.listings.get(job.queue);

    if (isRunning(job)) {
      count.running += 1;
      running.set(job.queue, (running.get(job.queue) ?? 0) + 1);
    }
    const action = actionFor(job, state, rawState, input);
    if (isWaiting(job, state)) {
      count.waiting += 1;
      if (!action && !listing?.paused) {
        waiting.push({ ...job, priority: listedPriority.get(job.uuid) ?? job.priority, job });
      }
    }
    if (action) actions.push(action);
  }

  const { maxInFlight, maxInFlightTotal } = input.limits;
  for (const { job } of admit({ waiting, running, maxInFlight, maxInFlightTotal })) {
    actions.push({ kind: "resume", job });
  }
  actions.push(...toSchedule(input));
  return { actions, counts };
}
