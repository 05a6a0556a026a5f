/**
 * Why a Job will not get its Buildkite job to an agent, in words a pipeline author can act
 * on: a pod that cannot start ({@link startFailureOf}), a pod or Job that ended first, or
 * a Job Kubernetes made no pod for. Pure: the caller passes the clock.
 *
 * @module
 */
import type { ObservedJob } from "./observe.js";
import {
  type ContainerStatusLike,
  type PodLike,
  type StartFailureReason,
  startFailureOf,
} from "./start-failure.js";

/** The agent's container in every Job we build (see manifest/containers.ts). */
const AGENT_CONTAINER = "agent";

/** The agent exits 27 when Buildkite refuses to hand it the job: taken, finished or cancelled. */
const EXIT_JOB_REFUSED = 27;

/** How many of the Job's latest Events a `NoPod` detail quotes. */
const EVENTS_QUOTED = 3;

/** The Job conditions that only restate that a pod failed; any other is Kubernetes' own doing. */
const POD_FAILED_CONDITIONS = ["BackoffLimitExceeded", "failed"];

export interface JobFailureLimits {
  /** Milliseconds since the epoch, now. */
  readonly now: number;
  /** See {@link startFailureOf}. */
  readonly graceMs: number;
  /** See {@link startFailureOf}. */
  readonly pendingTimeoutMs: number;
  /** A running Job with no pod after this long (ms) gets none. */
  readonly emptyJobGraceMs: number;
}

export interface JobFailure {
  readonly reason: StartFailureReason | "PodFailed" | "NoPod";
  /** One line for the Buildkite job's timeline. */
  readonly detail: string;
  /**
   * Kubernetes ended the pod or Job (out of memory, deadline, eviction), rather than its
   * containers ending by themselves; always true for start failures. An agent that owns
   * the job cannot report such an end, so the user is told about it.
   */
  readonly imposed: boolean;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The container whose end explains the pod's: the agent's when it failed, else the first that failed. */
function culprit(pod: PodLike): ContainerStatusLike | undefined {
  const failed = (c: ContainerStatusLike) => (c.state?.terminated?.exitCode ?? 0) !== 0;
  const main = pod.status?.containerStatuses ?? [];
  const agent = main.find((c) => c.name === AGENT_CONTAINER && failed(c));
  return agent ?? main.find(failed) ?? pod.status?.initContainerStatuses?.find(failed);
}

/** One container's end, said plainly, with what to change when that is clear. */
function describeEnd(container: ContainerStatusLike): { text: string; imposed: boolean } {
  const ended = container.state?.terminated;
  const code = ended?.exitCode ?? 0;
  if (ended?.reason === "OOMKilled") {
    return {
      text: `container "${container.name}" ran out of memory and was killed (OOMKilled, exit ${code}); raise its memory limit in the pod definition`,
      imposed: true,
    };
  }
  return {
    text: `container "${container.name}" exited with status ${code}${ended?.reason ? ` (${ended.reason})` : ""}`,
    imposed: false,
  };
}

/**
 * Why the pod or the Job ended, or `undefined` when neither did, or when the agent was
 * refused the job (exit 27): then someone else has it, or it is over, and Buildkite's own
 * state will say so on a later pass.
 */
function endedFailure(job: ObservedJob, owned: boolean): JobFailure | undefined {
  const pod = job.pods.find((p) => p.status?.phase === "Failed");
  if (!pod && job.outcome !== "failed") return undefined;
  const container = pod && culprit(pod);
  if (
    container?.name === AGENT_CONTAINER &&
    container.state?.terminated?.exitCode === EXIT_JOB_REFUSED
  ) {
    return undefined;
  }
  const when = owned ? "while its agent had the job" : "before its agent took the job";
  const parts: string[] = [];
  let imposed = false;
  if (container) {
    const end = describeEnd(container);
    parts.push(end.text);
    imposed = end.imposed;
  }
  if (job.failure !== undefined) {
    const restates = POD_FAILED_CONDITIONS.some((c) => job.failure?.startsWith(c));
    if (!restates) imposed = true;
    if (!restates || parts.length === 0) parts.push(`the Kubernetes Job failed: ${job.failure}`);
  }
  const subject = pod ? "the pod ended" : "the Kubernetes Job ended";
  const why = parts.length > 0 ? `: ${parts.join("; ")}` : "";
  return { reason: "PodFailed", detail: `${subject} ${when}${why}`, imposed };
}

/** A running, not suspended Job that Kubernetes has made no pod for, past the grace. */
function noPodFailure(job: ObservedJob, limits: JobFailureLimits): JobFailure | undefined {
  if (job.suspended || job.outcome !== "running" || job.pods.length > 0) return undefined;
  // The Job controller sets startTime when it first syncs an unsuspended Job (whether or
  // not it can make the pod) and again on every resume: a Job without one has not been
  // looked at yet (just resumed, say), and is not judged until it has.
  if (job.startedAt === undefined) return undefined;
  const waited = limits.now - job.startedAt;
  if (waited < limits.emptyJobGraceMs) return undefined;
  const recent = job.events.slice(-EVENTS_QUOTED);
  const said = recent.length > 0 ? `; Kubernetes said: ${recent.join("; ")}` : "";
  return {
    reason: "NoPod",
    detail: `Kubernetes made no pod for the Job in ${seconds(waited)}${said}`,
    imposed: true,
  };
}

/**
 * Why `job` will not run its Buildkite job, judged at `limits.now`, or `undefined` while
 * it still might. In order: a pod that cannot start; a pod or Job that ended; no pod at
 * all. `owned` says an agent already has the job, which only changes the wording.
 * A suspended Job's pods are being deleted, so only its own failure counts.
 *
 * @example
 * ```ts
 * jobFailureOf(observed, { now: Date.now(), graceMs: 30_000, pendingTimeoutMs: 900_000, emptyJobGraceMs: 30_000 });
 * // { reason: "NoPod", detail: 'Kubernetes made no pod for the Job in 45 s; Kubernetes said: ... exceeded quota ...', imposed: true }
 * ```
 */
export function jobFailureOf(
  job: ObservedJob,
  limits: JobFailureLimits,
  owned = false,
): JobFailure | undefined {
  if (job.outcome === "succeeded") return undefined;
  if (!job.suspended) {
    for (const pod of job.pods) {
      const failure = startFailureOf(pod, limits);
      if (failure) return { ...failure, imposed: true };
    }
  }
  const ended = job.suspended && job.outcome !== "failed" ? undefined : endedFailure(job, owned);
  return ended ?? noPodFailure(job, limits);
}
