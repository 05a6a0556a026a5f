/**
 * What the lifecycle controller knows about one of our Kubernetes Jobs, read from the Job,
 * its pods and its Events into one flat record. Pure: the caller lists the objects.
 *
 * @module
 */
import { ANNOTATIONS, LABELS, MANAGED_BY } from "../manifest/metadata.js";
import type { PodLike } from "./start-failure.js";

/** The parts of a Kubernetes Job this reads (client-node's V1Job fits; JSON from the API server fits). */
export interface JobLike {
  metadata?: {
    name?: string;
    namespace?: string;
    creationTimestamp?: string | Date;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { suspend?: boolean };
  status?: {
    startTime?: string | Date;
    active?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** One of our Jobs as the controller sees it in a pass. */
export interface ObservedJob {
  readonly name: string;
  readonly namespace: string;
  /** The Buildkite job's UUID (label `buildkite.com/job-uuid`). */
  readonly uuid: string;
  /** The queue as routed (annotation `buildkite.com/queue`), else its label form. */
  readonly queue: string;
  /** Buildkite's priority (annotation `buildkite.com/job-priority`); 0 when absent or invalid. */
  readonly priority: number;
  /** Milliseconds since the epoch; 0 when the Job has no valid creation time. */
  readonly createdAt: number;
  /** `status.startTime`: Kubernetes resets it when a suspended Job resumes. */
  readonly startedAt: number | undefined;
  readonly suspended: boolean;
  /** Set once the controller stopped the Job for good: why, and when. */
  readonly stopped: { readonly at: number; readonly reason: string } | undefined;
  /** The user was told about this job once already. */
  readonly notified: boolean;
  readonly outcome: "running" | "succeeded" | "failed";
  /** The Job's failure condition, `reason: message`, when it failed. */
  readonly failure: string | undefined;
  readonly pods: readonly PodLike[];
  /** Messages of Kubernetes Events about the Job, oldest first. */
  readonly events: readonly string[];
}

/** Milliseconds since the epoch, or `undefined` for a missing or unreadable time. */
function timeOf(value: string | Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/** An integer written as decimal text; anything else (a hand-edited annotation) is 0. */
function priorityOf(text: string | undefined): number {
  if (text === undefined || !/^-?\d{1,15}$/.test(text.trim())) return 0;
  return Number(text.trim());
}

type Condition = NonNullable<NonNullable<JobLike["status"]>["conditions"]>[number];

/**
 * Whether the Job ended. `FailureTarget` and `SuccessCriteriaMet` (Kubernetes 1.31+) come
 * before `Failed` and `Complete` while the pods terminate: the outcome is already decided.
 */
function outcomeOf(conditions: readonly Condition[]): {
  outcome: ObservedJob["outcome"];
  failure: string | undefined;
} {
  const holds = (type: string) => conditions.find((c) => c.type === type && c.status === "True");
  const failed = holds("Failed") ?? holds("FailureTarget");
  if (failed) {
    const words = [failed.reason, failed.message].filter((w) => w !== undefined && w !== "");
    return { outcome: "failed", failure: words.length > 0 ? words.join(": ") : "failed" };
  }
  if (holds("Complete") ?? holds("SuccessCriteriaMet")) {
    return { outcome: "succeeded", failure: undefined };
  }
  return { outcome: "running", failure: undefined };
}

/**
 * Reads `job` into an {@link ObservedJob}; `undefined` when the object is not one of ours
 * (no `app.kubernetes.io/managed-by=ondemand-eks` label, or no job-uuid label) or has no
 * name and namespace to act on.
 *
 * @example
 * ```ts
 * const observed = observeJob(job, podsOf(job), eventsOf(job));
 * if (observed) jobs.push(observed);
 * ```
 */
export function observeJob(
  job: JobLike,
  pods: readonly PodLike[],
  events: readonly string[] = [],
): ObservedJob | undefined {
  const metadata = job.metadata ?? {};
  const labels = metadata.labels ?? {};
  const annotations = metadata.annotations ?? {};
  const uuid = labels[LABELS.jobUuid];
  if (labels[LABELS.managedBy] !== MANAGED_BY || !uuid) return undefined;
  if (!metadata.name || !metadata.namespace) return undefined;

  const createdAt = timeOf(metadata.creationTimestamp) ?? 0;
  const stoppedReason = annotations[ANNOTATIONS.stopped];
  return {
    name: metadata.name,
    namespace: metadata.namespace,
    uuid,
    queue: annotations[ANNOTATIONS.queue] ?? labels[LABELS.queue] ?? "",
    priority: priorityOf(annotations[ANNOTATIONS.priority]),
    createdAt,
    startedAt: timeOf(job.status?.startTime),
    suspended: job.spec?.suspend === true,
    // A tombstone whose time is unreadable ages from the Job's creation, so it is still
    // deleted in the end rather than kept forever.
    stopped:
      stoppedReason === undefined
        ? undefined
        : {
            reason: stoppedReason,
            at: timeOf(annotations[ANNOTATIONS.stoppedAt]) ?? createdAt,
          },
    notified: annotations[ANNOTATIONS.notified] !== undefined,
    ...outcomeOf(job.status?.conditions ?? []),
    pods,
    events,
  };
}
