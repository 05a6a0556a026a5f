import {
  desiredReplicas,
  type PoolScaling,
  type QueueDepth,
  type ScaleState,
  STALE_METRICS_MS,
} from "@ondemand-eks/core";
import { arbitraries } from "@ondemand-eks/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const NUM_RUNS = 500;
const NOW = Date.UTC(2026, 0, 15, 12);

/** A pool's state: sometimes outside its bounds, last moves from just now to 20 minutes ago. */
const scaleState: fc.Arbitrary<ScaleState> = fc.record(
  {
    current: fc.nat({ max: 80 }),
    lastScaleOutAt: fc.nat({ max: 1_200_000 }).map((ago) => NOW - ago),
    lastScaleInAt: fc.nat({ max: 1_200_000 }).map((ago) => NOW - ago),
  },
  { requiredKeys: ["current"] },
);
/** Counts read up to the stale limit ago, so scaling is live. */
const freshDepth = arbitraries
  .queueDepth({ at: NOW })
  .chain((depth) => fc.nat({ max: STALE_METRICS_MS }).map((age) => ({ ...depth, at: NOW - age })));
const { poolScaling } = arbitraries;

const within = (scaling: PoolScaling, current: number) =>
  current >= scaling.minReplicas && current <= scaling.maxReplicas;
/** Whether `now` is within `seconds` of `since` (inclusive, as the decision counts it). */
const cooling = (since: number | undefined, seconds: number) =>
  since !== undefined && NOW <= since + seconds * 1000;

describe("desiredReplicas: properties", () => {
  it("never leaves [minReplicas, maxReplicas], wherever the pool is now", () => {
    fc.assert(
      fc.property(freshDepth, poolScaling(), scaleState, (depth, scaling, state) => {
        const { replicas, wanted } = desiredReplicas(depth, scaling, state, NOW);
        expect(replicas).toBeGreaterThanOrEqual(scaling.minReplicas);
        expect(replicas).toBeLessThanOrEqual(scaling.maxReplicas);
        expect(wanted).toBeGreaterThanOrEqual(scaling.minReplicas);
        expect(wanted).toBeLessThanOrEqual(scaling.maxReplicas);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("is monotone in demand: more scheduled or running jobs never mean fewer pods", () => {
    fc.assert(
      fc.property(
        freshDepth,
        poolScaling(),
        scaleState,
        fc.nat({ max: 100 }),
        fc.nat({ max: 100 }),
        (depth, scaling, state, moreScheduled, moreRunning) => {
          const busier = {
            ...depth,
            scheduled: depth.scheduled + moreScheduled,
            running: depth.running + moreRunning,
          };
          const before = desiredReplicas(depth, scaling, state, NOW);
          const after = desiredReplicas(busier, scaling, state, NOW);
          expect(after.replicas).toBeGreaterThanOrEqual(before.replicas);
          expect(after.wanted).toBeGreaterThanOrEqual(before.wanted);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("adds at most maxScaleOutStep pods, counted from minReplicas when the pool is below it", () => {
    fc.assert(
      fc.property(freshDepth, poolScaling(), scaleState, (depth, scaling, state) => {
        const { replicas } = desiredReplicas(depth, scaling, state, NOW);
        const from = Math.max(state.current, scaling.minReplicas);
        expect(replicas).toBeLessThanOrEqual(from + scaling.maxScaleOutStep);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("is stable: the decision fed back, at the same time and with the same counts, changes nothing", () => {
    fc.assert(
      fc.property(freshDepth, poolScaling(), scaleState, (depth, scaling, state) => {
        // Prepare: the state the scaler keeps once it applied the decision.
        const first = desiredReplicas(depth, scaling, state, NOW);
        const applied: ScaleState = {
          current: first.replicas,
          lastScaleOutAt: first.replicas > state.current ? NOW : state.lastScaleOutAt,
          lastScaleInAt: first.replicas < state.current ? NOW : state.lastScaleInAt,
        };

        // Act
        const second = desiredReplicas(depth, scaling, applied, NOW);

        // Assess
        expect(second.replicas).toBe(first.replicas);
        expect(second.wanted).toBe(first.wanted);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("respects the cool-downs while the pool is within its bounds", () => {
    fc.assert(
      fc.property(freshDepth, poolScaling(), scaleState, (depth, scaling, state) => {
        fc.pre(within(scaling, state.current));
        const { replicas } = desiredReplicas(depth, scaling, state, NOW);
        if (cooling(state.lastScaleOutAt, scaling.scaleOutCooldownSeconds)) {
          expect(replicas).toBeLessThanOrEqual(state.current);
        }
        if (
          cooling(state.lastScaleInAt, scaling.scaleInCooldownSeconds) ||
          cooling(state.lastScaleOutAt, scaling.scaleInCooldownSeconds)
        ) {
          expect(replicas).toBeGreaterThanOrEqual(state.current);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("never removes pods for low demand when scaleIn is false, only to come within maxReplicas", () => {
    fc.assert(
      fc.property(freshDepth, poolScaling(), scaleState, (depth, scaling, state) => {
        const { replicas } = desiredReplicas(depth, { ...scaling, scaleIn: false }, state, NOW);
        expect(replicas).toBeGreaterThanOrEqual(Math.min(state.current, scaling.maxReplicas));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("does not count waiting jobs: they are blocked, no agent could take them", () => {
    fc.assert(
      fc.property(
        freshDepth,
        poolScaling(),
        scaleState,
        fc.nat({ max: 1000 }),
        (depth, scaling, state, waiting) => {
          expect(desiredReplicas({ ...depth, waiting }, scaling, state, NOW)).toEqual(
            desiredReplicas(depth, scaling, state, NOW),
          );
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("reaches the demand in one move when no step or cool-down is in the way", () => {
    fc.assert(
      fc.property(freshDepth, poolScaling(), fc.nat({ max: 80 }), (depth, scaling, current) => {
        const open = { ...scaling, maxScaleOutStep: scaling.maxReplicas, scaleIn: true };
        const { replicas, wanted } = desiredReplicas(depth, open, { current }, NOW);
        const demand = Math.ceil(
          (depth.scheduled + depth.running + scaling.idleAgents) / scaling.agentsPerPod,
        );
        expect(wanted).toBe(Math.min(scaling.maxReplicas, Math.max(scaling.minReplicas, demand)));
        expect(replicas).toBe(wanted);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("freezes on stale counts, within the bounds", () => {
    fc.assert(
      fc.property(
        arbitraries.queueDepth({ at: NOW }),
        poolScaling(),
        scaleState,
        fc.integer({ min: STALE_METRICS_MS + 1, max: 10 * STALE_METRICS_MS }),
        (depth, scaling, state, age) => {
          const { replicas } = desiredReplicas({ ...depth, at: NOW - age }, scaling, state, NOW);
          const held = Math.min(scaling.maxReplicas, Math.max(scaling.minReplicas, state.current));
          expect(replicas).toBe(held);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("desiredReplicas: worked examples", () => {
  const scaling: PoolScaling = {
    minReplicas: 1,
    maxReplicas: 10,
    agentsPerPod: 4,
    idleAgents: 2,
    maxScaleOutStep: 10,
    scaleOutCooldownSeconds: 0,
    scaleInCooldownSeconds: 300,
    scaleIn: true,
  };
  const depth = (scheduled: number, running: number, waiting = 0): QueueDepth => ({
    scheduled,
    running,
    waiting,
    idleAgents: 0,
    busyAgents: running,
    totalAgents: running,
    at: NOW - 5_000,
  });

  it("packs the jobs and the idle buffer into pods of agentsPerPod agents", () => {
    // 7 scheduled + 3 running + 2 kept idle = 12 agents, 4 per pod: 3 pods.
    expect(desiredReplicas(depth(7, 3), scaling, { current: 1 }, NOW)).toEqual({
      replicas: 3,
      wanted: 3,
      reason:
        "7 scheduled + 3 running jobs + 2 idle agents kept ready need 3 pods of 4 agents within [1, 10]; scaling out from 1 to 3",
    });
  });

  it("adds at most maxScaleOutStep pods at a time", () => {
    const decision = desiredReplicas(
      depth(40, 0),
      { ...scaling, maxScaleOutStep: 3 },
      { current: 2 },
      NOW,
    );
    expect(decision).toMatchObject({ replicas: 5, wanted: 10 });
    expect(decision.reason).toMatch(/scaling out from 2 to 5 \(at most 3 per step\)$/);
  });

  it("waits out the scale-in cool-down after the last increase", () => {
    const state = { current: 6, lastScaleOutAt: NOW - 100_000 };
    const decision = desiredReplicas(depth(0, 0), scaling, state, NOW);
    expect(decision).toMatchObject({ replicas: 6, wanted: 1 });
    expect(decision.reason).toMatch(/holding at 6: scale-in cools down for 200 s more$/);
    const later = { ...depth(0, 0), at: NOW + 200_000 };
    expect(desiredReplicas(later, scaling, state, NOW + 200_001).replicas).toBe(1);
  });

  it("moves a pool whose bounds were edited into them at once, scaleIn off and cool-down or not", () => {
    const state = { current: 15, lastScaleOutAt: NOW };
    const decision = desiredReplicas(depth(100, 0), { ...scaling, scaleIn: false }, state, NOW);
    expect(decision.replicas).toBe(10);
    expect(decision.reason).toMatch(/moving 15 into \[1, 10\]; holding at 10$/);
  });

  it("ignores waiting jobs and holds on stale counts", () => {
    expect(desiredReplicas(depth(0, 0, 50), scaling, { current: 1 }, NOW).replicas).toBe(1);
    const stale = { ...depth(50, 0), at: NOW - STALE_METRICS_MS - 1 };
    const decision = desiredReplicas(stale, scaling, { current: 2 }, NOW);
    expect(decision.replicas).toBe(2);
    expect(decision.reason).toBe("holding at 2: the queue metrics are 60 s old, stale past 60 s");
  });
});
