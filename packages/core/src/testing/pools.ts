/**
 * Scaled long-polling pools: their scaling settings as parsed, and the queue counts
 * the scaler reads, for property tests of scaling decisions.
 */
import * as fc from "fast-check";
import type { PoolScaling } from "../pod-definition/schema.js";
import type { QueueDepth } from "../pools/scaling.js";

/** Options of {@link queueDepth}. */
export interface QueueDepthOptions {
  /** When the counts were read, epoch ms; any time in 2020-2030 by default. */
  readonly at?: number;
  /** Most jobs in each count (scheduled, running, waiting); 200 by default. */
  readonly maxJobs?: number;
}

/**
 * Counts as Buildkite's queue metrics give them: busy agents run the running jobs, the
 * idle ones wait for work, every count a whole number of at least 0.
 *
 * @example
 * ```ts
 * fc.property(queueDepth({ at: now }), poolScaling(), (depth, scaling) => ...);
 * ```
 */
export function queueDepth(options: QueueDepthOptions = {}): fc.Arbitrary<QueueDepth> {
  const jobs = fc.nat({ max: options.maxJobs ?? 200 });
  return fc
    .record({
      scheduled: jobs,
      running: jobs,
      waiting: jobs,
      idleAgents: fc.nat({ max: 50 }),
      at:
        options.at === undefined
          ? fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) })
          : fc.constant(options.at),
    })
    .map(({ running, idleAgents, ...rest }) => ({
      ...rest,
      running,
      idleAgents,
      busyAgents: running,
      totalAgents: running + idleAgents,
    }));
}

/**
 * A scaled pool's settings as {@link PodDefinition} holds them, every default filled
 * in: `minReplicas <= maxReplicas`, sometimes equal, sometimes 0; several agents per
 * pod sometimes; scale-in sometimes off.
 *
 * @example
 * ```ts
 * fc.property(poolScaling(), (scaling) => scaling.minReplicas <= scaling.maxReplicas);
 * ```
 */
export function poolScaling(): fc.Arbitrary<PoolScaling> {
  return fc
    .record({
      minReplicas: fc.oneof(fc.constant(0), fc.nat({ max: 20 })),
      extra: fc.oneof(fc.constant(0), fc.nat({ max: 50 })),
      agentsPerPod: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 8 })),
      idleAgents: fc.oneof(fc.constant(0), fc.nat({ max: 10 })),
      step: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
      scaleOutCooldownSeconds: fc.oneof(fc.constant(0), fc.nat({ max: 600 })),
      scaleInCooldownSeconds: fc.oneof(fc.constant(300), fc.nat({ max: 900 })),
      scaleIn: fc.boolean(),
    })
    .map(({ minReplicas, extra, step, ...rest }) => {
      const maxReplicas = Math.max(1, minReplicas + extra);
      return { ...rest, minReplicas, maxReplicas, maxScaleOutStep: step ?? maxReplicas };
    });
}
