/**
 * How many pods a scaled long-polling pool should run, from its queue's depth: a pure
 * decision, so the controller's scaler and the KEDA endpoint agree and tests need no
 * clock. The caller reads the metrics, keeps the state and applies the result.
 */
import type { PoolScaling } from "../pod-definition/schema.js";

/** One queue's counts from Buildkite's queue metrics, read at `at` (epoch ms). */
export interface QueueDepth {
  /** Jobs ready to run, waiting for an agent. */
  readonly scheduled: number;
  /** Jobs an agent is running. */
  readonly running: number;
  /** Jobs blocked on dependencies or a wait step: no agent could take them yet. */
  readonly waiting: number;
  readonly idleAgents: number;
  readonly busyAgents: number;
  readonly totalAgents: number;
  /** When the counts were read, epoch ms. */
  readonly at: number;
}

/** What the scaler knows of a pool between decisions. */
export interface ScaleState {
  /** The Deployment's `spec.replicas` now. */
  readonly current: number;
  /** Epoch ms of our last increase. */
  readonly lastScaleOutAt?: number | undefined;
  /** Epoch ms of our last decrease. */
  readonly lastScaleInAt?: number | undefined;
}

export interface ScaleDecision {
  /** What `spec.replicas` should be. */
  readonly replicas: number;
  /** The demand in pods, within [minReplicas, maxReplicas], before steps and cool-downs. */
  readonly wanted: number;
  /** One sentence for logs: why this number. */
  readonly reason: string;
}

/** Metrics older than this (ms) are stale: scaling freezes. */
export const STALE_METRICS_MS = 60_000;

/** A count from the metrics as a whole number of at least 0, whatever arrived. */
const count = (value: number): number =>
  Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;

const clamp = (value: number, min: number, max: number): number =>
  Math.min(max, Math.max(min, value));

/**
 * Whether `now` is still within `seconds` of `since`. Inclusive, so a move at `now`
 * blocks a second one at the same instant: feeding a decision back changes nothing.
 */
function coolingFor(since: number | undefined, seconds: number, now: number): number {
  if (since === undefined) return 0;
  const left = since + seconds * 1000 - now;
  return left >= 0 ? Math.max(1, Math.ceil(left / 1000)) : 0;
}

/**
 * Decides a scaled pool's size. The demand is every job that could run now (scheduled
 * and running; not waiting ones, blocked on dependencies) plus the idle agents kept
 * ready, in pods of `agentsPerPod` agents, within `[minReplicas, maxReplicas]`. Growing
 * adds at most `maxScaleOutStep` pods and waits `scaleOutCooldownSeconds` after the last
 * increase; shrinking needs `scaleIn` and waits `scaleInCooldownSeconds` after any
 * change. A pool outside its bounds (they were edited) moves into them at once. Metrics
 * older than {@link STALE_METRICS_MS} freeze the pool (within its bounds).
 *
 * @example
 * ```ts
 * const decision = desiredReplicas(depth, definition.longPolling.scaling, { current: 2 }, Date.now());
 * // { replicas: 5, wanted: 5, reason: "12 scheduled + 3 running jobs + 0 idle agents kept ready need 5 pods of 3 agents; scaling out from 2 to 5" }
 * ```
 */
export function desiredReplicas(
  depth: QueueDepth,
  scaling: PoolScaling,
  state: ScaleState,
  now: number,
): ScaleDecision {
  const { minReplicas: min, maxReplicas: max } = scaling;
  const current = count(state.current);
  // Bounds first: a pool outside them (edited since) moves in, whatever the cool-downs.
  const from = clamp(current, min, max);
  const into = from === current ? "" : `moving ${current} into [${min}, ${max}]; `;

  const age = now - depth.at;
  if (!(age <= STALE_METRICS_MS)) {
    return {
      replicas: from,
      wanted: from,
      reason: `${into}holding at ${from}: the queue metrics are ${Number.isFinite(age) ? `${Math.round(age / 1000)} s` : "of unknown"} old, stale past ${STALE_METRICS_MS / 1000} s`,
    };
  }

  const scheduled = count(depth.scheduled);
  const running = count(depth.running);
  const agents = scheduled + running + scaling.idleAgents;
  const wanted = clamp(Math.ceil(agents / scaling.agentsPerPod), min, max);
  const need = `${scheduled} scheduled + ${running} running jobs + ${scaling.idleAgents} idle agents kept ready need ${wanted} pod${wanted === 1 ? "" : "s"} of ${scaling.agentsPerPod} agent${scaling.agentsPerPod === 1 ? "" : "s"} within [${min}, ${max}]`;
  const decide = (replicas: number, action: string): ScaleDecision => ({
    replicas,
    wanted,
    reason: `${need}; ${into}${action}`,
  });

  if (wanted > from) {
    const wait = coolingFor(state.lastScaleOutAt, scaling.scaleOutCooldownSeconds, now);
    if (wait > 0)
      return decide(from, `holding at ${from}: scale-out cools down for ${wait} s more`);
    const replicas = Math.min(wanted, from + scaling.maxScaleOutStep);
    const step = replicas < wanted ? ` (at most ${scaling.maxScaleOutStep} per step)` : "";
    return decide(replicas, `scaling out from ${from} to ${replicas}${step}`);
  }
  if (wanted < from) {
    if (!scaling.scaleIn) return decide(from, `holding at ${from}: scaleIn is false`);
    const wait = Math.max(
      coolingFor(state.lastScaleInAt, scaling.scaleInCooldownSeconds, now),
      coolingFor(state.lastScaleOutAt, scaling.scaleInCooldownSeconds, now),
    );
    if (wait > 0) return decide(from, `holding at ${from}: scale-in cools down for ${wait} s more`);
    return decide(wanted, `scaling in from ${from} to ${wanted}`);
  }
  return decide(from, `holding at ${from}`);
}
