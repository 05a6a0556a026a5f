import { constants } from "node:os";
import type { V1ContainerStatus, V1Pod, V1PodCondition } from "@kubernetes/client-node";

/**
 * A pod's status as a kubelet reports it, built from what the test kubelet knows of each
 * container: phase, conditions, container states, exit codes and reasons. Pure: the
 * runner keeps the records and writes what this builds.
 *
 * @module
 */

/** What a container is doing, with the reason a kubelet would give. */
export type ContainerState =
  | { readonly waiting: { readonly reason: string; readonly message?: string } }
  | { readonly running: { readonly startedAt: Date } }
  | {
      readonly terminated: {
        readonly exitCode: number;
        readonly reason: string;
        readonly message?: string;
        readonly startedAt?: Date;
        readonly finishedAt: Date;
      };
    };

/** An init container that runs to completion, a native sidecar, or a main container. */
export type ContainerKind = "init" | "sidecar" | "main";

/** One container as the kubelet tracks it. */
export interface ContainerRecord {
  readonly name: string;
  readonly image: string;
  readonly kind: ContainerKind;
  state: ContainerState;
  lastState?: ContainerState;
  restartCount: number;
  containerID?: string;
}

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed";

/** The pod as the kubelet tracks it. */
export interface PodRecord {
  phase: PodPhase;
  readonly startTime: Date;
  /** The pod's sandbox (its volumes) exists. */
  sandboxReady: boolean;
  /** Init containers have all completed once: `Initialized` stays true after. */
  initialized?: boolean;
  readonly containers: ContainerRecord[];
  reason?: string;
  message?: string;
}

const isRunning = (c: ContainerRecord) => "running" in c.state;
const isDone = (c: ContainerRecord) => "terminated" in c.state && c.state.terminated.exitCode === 0;

/** The condition types a kubelet owns; others (PodScheduled, DisruptionTarget...) are kept. */
const KUBELET_CONDITIONS = new Set([
  "PodReadyToStartContainers",
  "Initialized",
  "Ready",
  "ContainersReady",
]);

/** A condition, keeping its last transition time while its status stays the same. */
function conditionOf(pod: V1Pod) {
  return (type: string, ok: boolean, reason?: string, message?: string): V1PodCondition => {
    const status = ok ? "True" : "False";
    const before = pod.status?.conditions?.find((c) => c.type === type);
    const lastTransitionTime =
      before?.status === status && before.lastTransitionTime
        ? before.lastTransitionTime
        : new Date();
    return { type, status, lastTransitionTime, ...(ok ? {} : { reason, message }) };
  };
}

function containerStatus(record: ContainerRecord, ready: boolean): V1ContainerStatus {
  return {
    name: record.name,
    image: record.image,
    imageID: "",
    containerID: record.containerID,
    ready,
    started: isRunning(record),
    restartCount: record.restartCount,
    state: record.state,
    lastState: record.lastState ?? {},
  };
}

/**
 * The status to write for `record`, keeping the scheduler's `PodScheduled` condition.
 *
 * @example
 * statusOf(pod, { phase: "Pending", startTime, sandboxReady: true, containers }).phase; // "Pending"
 */
export function statusOf(pod: V1Pod, record: PodRecord): Record<string, unknown> {
  const terminal = record.phase === "Succeeded" || record.phase === "Failed";
  const mains = record.containers.filter((c) => c.kind === "main");
  const sidecars = record.containers.filter((c) => c.kind === "sidecar");
  const unready = terminal ? mains : [...sidecars, ...mains].filter((c) => !isRunning(c));
  const incomplete = record.containers.filter(
    (c) => c.kind !== "main" && !(isDone(c) || isRunning(c)),
  );
  const names = (list: ContainerRecord[]) => `[${list.map((c) => c.name).join(" ")}]`;
  const notReady = terminal ? "PodCompleted" : "ContainersNotReady";
  const notReadyMessage = terminal
    ? undefined
    : `containers with unready status: ${names(unready)}`;
  const others = pod.status?.conditions?.filter((c) => !KUBELET_CONDITIONS.has(c.type)) ?? [];
  const condition = conditionOf(pod);
  return {
    phase: record.phase,
    reason: record.reason,
    message: record.message,
    hostIP: "127.0.0.1",
    hostIPs: [{ ip: "127.0.0.1" }],
    podIP: "127.0.0.1",
    podIPs: [{ ip: "127.0.0.1" }],
    startTime: record.startTime,
    qosClass: pod.status?.qosClass,
    conditions: [
      condition("PodReadyToStartContainers", record.sandboxReady && !terminal),
      condition(
        "Initialized",
        record.initialized === true || incomplete.length === 0,
        "ContainersNotInitialized",
        `containers with incomplete status: ${names(incomplete)}`,
      ),
      condition("Ready", unready.length === 0, notReady, notReadyMessage),
      condition("ContainersReady", unready.length === 0, notReady, notReadyMessage),
      ...others,
    ],
    initContainerStatuses: record.containers
      .filter((c) => c.kind !== "main")
      .map((c) => containerStatus(c, c.kind === "sidecar" ? isRunning(c) : isDone(c))),
    containerStatuses: mains.map((c) => containerStatus(c, isRunning(c))),
  };
}

/** The exit code and reason of a process that ended with `code` or by `signal`. */
export function exitOf(
  code: number | null,
  signal: NodeJS.Signals | null,
  oomKilled: boolean,
): { exitCode: number; reason: string } {
  if (oomKilled) return { exitCode: 137, reason: "OOMKilled" };
  const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1);
  return { exitCode, reason: exitCode === 0 ? "Completed" : "Error" };
}
