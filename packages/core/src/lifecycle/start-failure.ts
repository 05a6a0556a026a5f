/**
 * Why a Job's pod will not start its agent, in words a pipeline author can act on, or
 * `undefined` while it still might. The controller fails the Buildkite job with this
 * detail, so a job never waits forever on a pod that cannot run. Pure: the caller reads
 * the pod and the clock.
 *
 * @module
 */

/** The part of a container status this reads (client-node's V1ContainerStatus fits). */
export interface ContainerStatusLike {
  readonly name: string;
  readonly image?: string;
  readonly state?: {
    readonly waiting?: { readonly reason?: string; readonly message?: string };
    readonly terminated?: { readonly exitCode: number; readonly reason?: string };
  };
}

/** The part of a Pod this reads (client-node's V1Pod fits). */
export interface PodLike {
  readonly metadata?: { readonly creationTimestamp?: Date | string };
  readonly status?: {
    readonly phase?: string;
    readonly startTime?: Date | string;
    readonly conditions?: readonly {
      readonly type: string;
      readonly status: string;
      readonly reason?: string;
      readonly message?: string;
    }[];
    readonly initContainerStatuses?: readonly ContainerStatusLike[];
    readonly containerStatuses?: readonly ContainerStatusLike[];
  };
}

/** How long a pod gets: image pull errors and missing configuration, then pending at all. */
export interface StartFailureLimits {
  /** Milliseconds since the epoch, now. */
  readonly now: number;
  /** Pull errors and missing Secrets or ConfigMaps are given this long to clear (ms). */
  readonly graceMs: number;
  /** A pod still pending after this long (ms) has failed to start. */
  readonly pendingTimeoutMs: number;
}

export type StartFailureReason =
  | "InvalidImageName"
  | "ImagePull"
  | "ContainerConfig"
  | "InitContainerFailed"
  | "Unschedulable"
  | "PendingTimeout";

export interface StartFailure {
  readonly reason: StartFailureReason;
  /** One line for the Buildkite job's timeline. */
  readonly detail: string;
}

const PULL_ERRORS = new Set(["ErrImagePull", "ImagePullBackOff"]);

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** When the pod began to wait: its start, or its creation; `undefined` when unknown. */
function since(pod: PodLike): number | undefined {
  const at = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
  const ms = at === undefined ? Number.NaN : new Date(at).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Why `pod` will not start, judged at `limits.now`: an invalid image name at once; an
 * image that cannot be pulled or a missing Secret or ConfigMap once `graceMs` has passed;
 * a failed init container at once; a pod still pending after `pendingTimeoutMs`, saying
 * why the scheduler could not place it when it says so.
 *
 * @example
 * startFailureOf(pod, { now: Date.now(), graceMs: 30_000, pendingTimeoutMs: 900_000 });
 * // { reason: "ImagePull", detail: 'container "agent": image "acme/ci:9" could not be pulled for 31 s (ImagePullBackOff): ...' }
 */
export function startFailureOf(pod: PodLike, limits: StartFailureLimits): StartFailure | undefined {
  const status = pod.status;
  if (!status || status.phase === "Succeeded") return undefined;
  const began = since(pod);
  const waited = began === undefined ? 0 : Math.max(0, limits.now - began);
  const containers = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  for (const container of containers) {
    const waiting = container.state?.waiting;
    const what = `container "${container.name}"`;
    const message = waiting?.message ? `: ${waiting.message}` : "";
    if (waiting?.reason === "InvalidImageName") {
      return {
        reason: "InvalidImageName",
        detail: `${what}: image "${container.image ?? ""}" is not a valid image reference (InvalidImageName)${message}; fix the image in the pod definition`,
      };
    }
    if (PULL_ERRORS.has(waiting?.reason ?? "") && waited >= limits.graceMs) {
      return {
        reason: "ImagePull",
        detail: `${what}: image "${container.image ?? ""}" could not be pulled for ${seconds(waited)} (${waiting?.reason})${message}`,
      };
    }
    if (waiting?.reason === "CreateContainerConfigError" && waited >= limits.graceMs) {
      return {
        reason: "ContainerConfig",
        detail: `${what} could not be configured for ${seconds(waited)} (CreateContainerConfigError)${message}; a Secret or ConfigMap it reads is missing`,
      };
    }
  }
  for (const container of status.initContainerStatuses ?? []) {
    const ended = container.state?.terminated;
    if (ended && ended.exitCode !== 0) {
      return {
        reason: "InitContainerFailed",
        detail: `init container "${container.name}" exited with status ${ended.exitCode}${ended.reason ? ` (${ended.reason})` : ""} before the agent started`,
      };
    }
  }
  if (status.phase === "Pending" && waited >= limits.pendingTimeoutMs) {
    const scheduled = status.conditions?.find((c) => c.type === "PodScheduled");
    if (scheduled?.status === "False") {
      return {
        reason: "Unschedulable",
        detail: `the pod could not be scheduled for ${seconds(waited)}${scheduled.message ? `: ${scheduled.message}` : ""}`,
      };
    }
    return {
      reason: "PendingTimeout",
      detail: `the pod was still pending after ${seconds(waited)}`,
    };
  }
  return undefined;
}
