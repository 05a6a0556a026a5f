import {
  type ContainerStatusLike,
  type JobLike,
  type ObservedJob,
  observeJob,
  type PodLike,
} from "@ondemand-eks/core";
import { LABELS, MANAGED_BY } from "@ondemand-eks/core/manifest";
import type { ClusterApi } from "@ondemand-eks/submitter";

/**
 * What the controller reads from the cluster each pass: the Jobs we made, their pods,
 * and (only for a Job that got no pod) the events that say why. Two paged lists per
 * namespace whatever the number of Jobs; events are read for the few Jobs that need them.
 * Only objects with our managed-by label are read, so a Job someone else made is never
 * seen, and never suspended, failed or deleted.
 */

/** Our Jobs' label selector: made by us, for a Buildkite job. */
export const OUR_JOBS = `${LABELS.managedBy}=${MANAGED_BY},${LABELS.jobUuid}`;

/** One of our Jobs, with what writing to it safely needs. */
export interface SeenJob {
  readonly observed: ObservedJob;
  /** The API path of the Job. */
  readonly path: string;
  readonly uid: string | undefined;
  readonly resourceVersion: string | undefined;
}

interface KubeObject extends JobLike {
  metadata?: JobLike["metadata"] & { uid?: string; resourceVersion?: string };
}

interface PodObject extends PodLike {
  metadata?: PodLike["metadata"] & { labels?: Record<string, string> };
}

interface EventObject {
  message?: string;
  reason?: string;
  type?: string;
  lastTimestamp?: string;
  eventTime?: string;
  metadata?: { creationTimestamp?: string };
}

const jobsPath = (namespace: string) =>
  `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs`;

/** The uid of the Job a pod belongs to (the Job controller's label, old and new names). */
function ownerUid(pod: PodObject): string | undefined {
  const labels = pod.metadata?.labels ?? {};
  return labels["batch.kubernetes.io/controller-uid"] ?? labels["controller-uid"];
}

/** When an event last happened, for ordering. */
function eventTime(event: EventObject): number {
  const at = event.lastTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp;
  const ms = at ? Date.parse(at) : Number.NaN;
  return Number.isFinite(ms) ? ms : 0;
}

/** A container status cut to what start failures are judged on. */
function slimContainer(status: ContainerStatusLike): ContainerStatusLike {
  const { waiting, terminated } = status.state ?? {};
  return {
    name: status.name,
    ...(status.image === undefined ? {} : { image: status.image }),
    state: {
      ...(waiting ? { waiting: { reason: waiting.reason, message: waiting.message } } : {}),
      ...(terminated
        ? { terminated: { exitCode: terminated.exitCode, reason: terminated.reason } }
        : {}),
    } as ContainerStatusLike["state"],
  };
}

/**
 * A pod cut to what the plan reads (phase, conditions, container states), with the uid of
 * its Job: a list of pods holds one page of full objects at a time, not all of them.
 */
function slimPod(pod: PodObject): { owner: string; pod: PodLike } | undefined {
  const owner = ownerUid(pod);
  if (owner === undefined) return undefined;
  const status = pod.status;
  return {
    owner,
    pod: {
      metadata: { creationTimestamp: pod.metadata?.creationTimestamp },
      status: {
        phase: status?.phase,
        startTime: status?.startTime,
        conditions: status?.conditions?.map(({ type, status: value, reason, message }) => ({
          type,
          status: value,
          reason,
          message,
        })),
        initContainerStatuses: status?.initContainerStatuses?.map(slimContainer),
        containerStatuses: status?.containerStatuses?.map(slimContainer),
      },
    },
  };
}

/**
 * Our Jobs and their pods in `namespaces`, read with paged lists, each page cut down as it
 * comes: with 10,000 Jobs the controller holds 10,000 small records, never 10,000 Jobs.
 *
 * @example
 * const jobs = await readJobs(api, ["buildkite", "buildkite-privileged"]);
 */
export async function readJobs(
  api: ClusterApi,
  namespaces: readonly string[],
  timeoutMs: number,
): Promise<SeenJob[]> {
  const seen: SeenJob[] = [];
  for (const namespace of new Set(namespaces)) {
    const { items: pods } = await api.listReduced<PodObject, { owner: string; pod: PodLike }>(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      slimPod,
      { labelSelector: OUR_JOBS, timeoutMs },
    );
    const podsByOwner = new Map<string, PodLike[]>();
    for (const { owner, pod } of pods) {
      podsByOwner.set(owner, [...(podsByOwner.get(owner) ?? []), pod]);
    }
    // Read after the pods: a pod made in between belongs to a Job this list sees.
    const { items } = await api.listReduced<KubeObject, SeenJob>(
      jobsPath(namespace),
      (job) => {
        const uid = job.metadata?.uid;
        const observed = observeJob(job, uid ? (podsByOwner.get(uid) ?? []) : []);
        if (!observed) return undefined;
        return {
          observed,
          path: `${jobsPath(namespace)}/${encodeURIComponent(observed.name)}`,
          uid,
          resourceVersion: job.metadata?.resourceVersion,
        };
      },
      { labelSelector: OUR_JOBS, timeoutMs },
    );
    seen.push(...items);
  }
  return seen;
}

/**
 * The messages of the events about a Job, oldest first (such as the Job controller's
 * `FailedCreate: ... exceeded quota` or `serviceaccount "x" not found`). At most the
 * last five; an unreadable list gives none rather than failing the pass.
 */
export async function readJobEvents(
  api: ClusterApi,
  job: ObservedJob,
  timeoutMs: number,
): Promise<string[]> {
  try {
    const { items } = await api.list<EventObject>(
      `/api/v1/namespaces/${encodeURIComponent(job.namespace)}/events`,
      { fieldSelector: `involvedObject.kind=Job,involvedObject.name=${job.name}`, timeoutMs },
    );
    return items
      .sort((a, b) => eventTime(a) - eventTime(b))
      .slice(-5)
      .map((event) => `${event.reason ? `${event.reason}: ` : ""}${event.message ?? ""}`.trim());
  } catch {
    return [];
  }
}
