import { type ObservedJob, type PassInput, type PodLike, planPass } from "@ondemand-eks/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LIMITS, NOW, uuidOf } from "./helpers/lifecycle.js";

const NUM_RUNS = 300;
const SERVED = ["a", "b"];
const STATES = [
  "scheduled",
  "reserved",
  "assigned",
  "accepted",
  "running",
  "canceling",
  "finished",
  "canceled",
  "expired",
  "timed_out",
  "skipped",
];
const TERMINAL = new Set(["finished", "canceled", "expired", "timed_out", "skipped"]);
const DESTRUCTIVE = new Set(["fail", "notify", "stop", "hold"]);

const pod: fc.Arbitrary<PodLike> = fc
  .record({
    phase: fc.constantFrom("Pending", "Running", "Failed", "Succeeded"),
    age: fc.integer({ min: 0, max: 2_000 }),
    waiting: fc.option(fc.constantFrom("ImagePullBackOff", "InvalidImageName"), { nil: undefined }),
    exitCode: fc.option(fc.constantFrom(0, 1, 27, 137), { nil: undefined }),
  })
  .map(({ phase, age, waiting, exitCode }) => ({
    status: {
      phase,
      startTime: new Date(NOW - age * 1000),
      containerStatuses: [
        {
          name: "agent",
          state: {
            ...(waiting ? { waiting: { reason: waiting } } : {}),
            ...(exitCode !== undefined ? { terminated: { exitCode } } : {}),
          },
        },
      ],
    },
  }));

/** A Job numbered `n` (its uuid and name follow from it), anything else arbitrary. */
const job = (n: number): fc.Arbitrary<ObservedJob> =>
  fc
    .record({
      queue: fc.constantFrom("a", "b", "elsewhere"),
      priority: fc.integer({ min: -1, max: 1 }),
      age: fc.integer({ min: 0, max: 2_000 }),
      suspended: fc.boolean(),
      // Mostly live Jobs: a tombstone only ever gets deleted, which tells little.
      stoppedAge: fc.oneof(
        { weight: 5, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 2_000 }) },
      ),
      notified: fc.boolean(),
      outcome: fc.constantFrom("running", "running", "succeeded", "failed"),
      pods: fc.array(pod, { maxLength: 2 }),
    })
    .map((j) => ({
      name: `buildkite-${uuidOf(n)}`,
      namespace: "buildkite",
      uuid: uuidOf(n),
      queue: j.queue,
      priority: j.priority,
      createdAt: NOW - j.age * 1000,
      startedAt: j.suspended ? undefined : NOW - j.age * 1000,
      suspended: j.suspended,
      stopped:
        j.stoppedAge === undefined
          ? undefined
          : { reason: "finished", at: NOW - j.stoppedAge * 1000 },
      notified: j.notified,
      outcome: j.outcome as ObservedJob["outcome"],
      failure: j.outcome === "failed" ? "DeadlineExceeded: too long" : undefined,
      pods: j.pods,
      events: [],
    }));

const passInput: fc.Arbitrary<PassInput> = fc
  .integer({ min: 0, max: 12 })
  .chain((count) =>
    fc.record({
      jobs: fc.tuple(...Array.from({ length: count }, (_, i) => job(i + 1))),
      states: fc.option(
        fc.array(fc.option(fc.constantFrom(...STATES), { nil: undefined }), {
          minLength: count,
          maxLength: count,
        }),
        { nil: undefined },
      ),
      paused: fc.record({ a: fc.option(fc.boolean()), b: fc.option(fc.boolean()) }),
      listed: fc.uniqueArray(fc.integer({ min: 1, max: 16 }), { maxLength: 6 }),
      maxInFlight: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      maxInFlightTotal: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    }),
  )
  .map(({ jobs, states, paused, listed, maxInFlight, maxInFlightTotal }) => {
    const stateMap =
      states &&
      new Map(
        jobs.flatMap((j, i) => (states[i] === undefined ? [] : [[j.uuid, states[i]] as const])),
      );
    const listings = new Map(
      SERVED.flatMap((queue) => {
        const p = paused[queue as "a" | "b"];
        if (p === null) return []; // this queue could not be read
        const jobsHere = listed
          .filter((n) => (n % 2 === 0) === (queue === "a"))
          .map((n) => ({ uuid: uuidOf(n), priority: n % 3 }));
        return [[queue, { paused: p, jobs: jobsHere }] as const];
      }),
    );
    const limits = {
      ...LIMITS,
      ...(maxInFlight === undefined ? {} : { maxInFlight }),
      ...(maxInFlightTotal === undefined ? {} : { maxInFlightTotal }),
    };
    return { now: NOW, queues: SERVED, jobs, states: stateMap, listings, limits };
  });

const isRunning = (j: ObservedJob) =>
  !j.suspended && j.stopped === undefined && j.outcome === "running";

describe("planPass: properties", () => {
  it("caps: resumes never take a queue or the total past its cap, nor resume where already over", () => {
    fc.assert(
      fc.property(passInput, (input) => {
        // Act
        const { actions } = planPass(input);
        // Assess
        const { maxInFlight, maxInFlightTotal } = input.limits;
        const served = input.jobs.filter((j) => SERVED.includes(j.queue));
        const resumed = actions.flatMap((a) => (a.kind === "resume" ? [a.job] : []));
        const totalBefore = served.filter(isRunning).length;
        if (maxInFlightTotal !== undefined) {
          if (totalBefore >= maxInFlightTotal) expect(resumed).toEqual([]);
          else expect(totalBefore + resumed.length).toBeLessThanOrEqual(maxInFlightTotal);
        }
        for (const queue of SERVED) {
          const before = served.filter((j) => j.queue === queue && isRunning(j)).length;
          const added = resumed.filter((j) => j.queue === queue).length;
          if (maxInFlight === undefined) continue;
          if (before >= maxInFlight) expect(added).toBe(0);
          else expect(before + added).toBeLessThanOrEqual(maxInFlight);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("order: within a queue, no Job left waiting outranks one resumed", () => {
    fc.assert(
      fc.property(passInput, (input) => {
        const { actions } = planPass(input);
        const listed = new Map(
          [...input.listings.values()].flatMap((l) =>
            l.jobs.map((j) => [j.uuid, j.priority] as const),
          ),
        );
        const rank = (j: ObservedJob) => [listed.get(j.uuid) ?? j.priority, -j.createdAt] as const;
        const acted = new Set(actions.flatMap((a) => ("job" in a ? [a.job.name] : [])));
        const resumed = actions.flatMap((a) => (a.kind === "resume" ? [a.job] : []));
        const left = input.jobs.filter(
          (j) =>
            j.suspended && j.stopped === undefined && j.outcome === "running" && !acted.has(j.name),
        );
        for (const taken of resumed) {
          for (const other of left.filter((j) => j.queue === taken.queue)) {
            const [p, c] = rank(other);
            const [tp, tc] = rank(taken);
            // Left waiting for another reason (a terminal state) is no breach of order.
            const state = input.states?.get(other.uuid);
            if (state !== undefined && TERMINAL.has(state)) continue;
            expect(p > tp || (p === tp && c > tc)).toBe(false);
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("work-conserving: a waiting Job of an unpaused queue left suspended has a cap reached", () => {
    fc.assert(
      fc.property(passInput, (input) => {
        const { actions, counts } = planPass(input);
        const { maxInFlight, maxInFlightTotal } = input.limits;
        const acted = new Set(actions.flatMap((a) => ("job" in a ? [a.job.name] : [])));
        const resumed = actions.filter((a) => a.kind === "resume").map((a) => a.job.queue);
        const runningAfter = (queue: string) =>
          (counts.get(queue)?.running ?? 0) + resumed.filter((q) => q === queue).length;
        const totalAfter = SERVED.reduce((sum, q) => sum + runningAfter(q), 0);
        for (const j of input.jobs) {
          const state = input.states?.get(j.uuid);
          const waiting =
            SERVED.includes(j.queue) &&
            j.suspended &&
            j.stopped === undefined &&
            j.outcome === "running" &&
            !(state !== undefined && TERMINAL.has(state));
          if (!waiting || acted.has(j.name) || input.listings.get(j.queue)?.paused) continue;
          const queueFull = maxInFlight !== undefined && runningAfter(j.queue) >= maxInFlight;
          const totalFull = maxInFlightTotal !== undefined && totalAfter >= maxInFlightTotal;
          expect(queueFull || totalFull).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("without Buildkite's states: no fail, notify, stop or hold", () => {
    fc.assert(
      fc.property(passInput, (given) => {
        const { actions } = planPass({ ...given, states: undefined });
        expect(actions.filter((a) => DESTRUCTIVE.has(a.kind))).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("safety: destructive actions only on a known state; fail only while no agent has the job", () => {
    fc.assert(
      fc.property(passInput, (input) => {
        for (const action of planPass(input).actions) {
          if (!("job" in action) || !DESTRUCTIVE.has(action.kind)) continue;
          const state = input.states?.get(action.job.uuid);
          expect(state).toBeDefined();
          if (action.kind === "fail") expect(["scheduled", "reserved"]).toContain(state);
          if (action.kind === "notify") {
            expect(["assigned", "accepted", "running"]).toContain(state);
            expect(action.job.notified).toBe(false);
          }
          if (action.kind === "stop") expect(TERMINAL.has(state ?? "")).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("a Job of a queue not served gets no action", () => {
    fc.assert(
      fc.property(passInput, (input) => {
        for (const action of planPass(input).actions) {
          if ("job" in action) expect(SERVED).toContain(action.job.queue);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("at most one action per Job, and schedules only uuids with no Job, once", () => {
    fc.assert(
      fc.property(passInput, (input) => {
        const { actions } = planPass(input);
        const jobs = actions.flatMap((a) =>
          "job" in a ? [`${a.job.namespace}/${a.job.name}`] : [],
        );
        expect(new Set(jobs).size).toBe(jobs.length);
        const scheduled = actions.flatMap((a) => (a.kind === "schedule" ? [a.uuid] : []));
        expect(new Set(scheduled).size).toBe(scheduled.length);
        for (const uuid of scheduled) {
          expect(input.jobs.some((j) => j.uuid === uuid)).toBe(false);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
