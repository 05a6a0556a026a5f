import { type AdmissionCandidate, admit } from "@ondemand-eks/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const NUM_RUNS = 500;
const QUEUES = ["a", "b", "c"];

const candidate = fc.record({
  queue: fc.constantFrom(...QUEUES),
  priority: fc.integer({ min: -2, max: 2 }),
  createdAt: fc.integer({ min: 0, max: 5 }),
  name: fc.string({ minLength: 1, maxLength: 3 }),
  namespace: fc.constantFrom("buildkite", "buildkite-privileged"),
});

const input = fc.record({
  waiting: fc.uniqueArray(candidate, {
    maxLength: 20,
    selector: (c) => `${c.namespace}/${c.name}`,
  }),
  running: fc
    .array(fc.tuple(fc.constantFrom(...QUEUES), fc.nat({ max: 6 })), { maxLength: 3 })
    .map((pairs) => new Map(pairs)),
  maxInFlight: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
  maxInFlightTotal: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
});

const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);

/** Running per queue and in total once `resumed` run too. */
function after(running: ReadonlyMap<string, number>, resumed: readonly AdmissionCandidate[]) {
  const perQueue = new Map(running);
  for (const c of resumed) perQueue.set(c.queue, (perQueue.get(c.queue) ?? 0) + 1);
  return { perQueue, total: sum(perQueue.values()) };
}

/** `a` goes before `b`. */
const outranks = (a: AdmissionCandidate, b: AdmissionCandidate) =>
  a.priority > b.priority ||
  (a.priority === b.priority &&
    (a.createdAt < b.createdAt ||
      (a.createdAt === b.createdAt &&
        (a.name < b.name || (a.name === b.name && a.namespace < b.namespace)))));

describe("admit: properties", () => {
  it("caps: never takes a queue or the total past its cap; one already over resumes nothing", () => {
    fc.assert(
      fc.property(input, (given) => {
        // Act
        const resumed = admit(given);
        const { perQueue, total } = after(given.running, resumed);
        // Assess
        const totalBefore = sum(given.running.values());
        if (given.maxInFlightTotal !== undefined) {
          if (totalBefore >= given.maxInFlightTotal) expect(resumed).toEqual([]);
          else expect(total).toBeLessThanOrEqual(given.maxInFlightTotal);
        }
        if (given.maxInFlight !== undefined) {
          for (const queue of QUEUES) {
            const before = given.running.get(queue) ?? 0;
            const added = resumed.filter((c) => c.queue === queue).length;
            if (before >= given.maxInFlight) expect(added).toBe(0);
            else expect(perQueue.get(queue) ?? 0).toBeLessThanOrEqual(given.maxInFlight);
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("order: within a queue, no candidate left waiting outranks one resumed", () => {
    fc.assert(
      fc.property(input, (given) => {
        const resumed = new Set(admit(given));
        for (const left of given.waiting.filter((c) => !resumed.has(c))) {
          for (const taken of resumed) {
            if (taken.queue === left.queue) expect(outranks(left, taken)).toBe(false);
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("work-conserving: a candidate left waiting has its queue or the total at its cap", () => {
    fc.assert(
      fc.property(input, (given) => {
        const resumed = admit(given);
        const { perQueue, total } = after(given.running, resumed);
        for (const left of given.waiting.filter((c) => !resumed.includes(c))) {
          const queueFull =
            given.maxInFlight !== undefined && (perQueue.get(left.queue) ?? 0) >= given.maxInFlight;
          const totalFull = given.maxInFlightTotal !== undefined && total >= given.maxInFlightTotal;
          expect(queueFull || totalFull).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("is deterministic: the order of the candidates does not matter", () => {
    fc.assert(
      fc.property(input, fc.nat(), (given, seed) => {
        const shuffled = [...given.waiting].sort(
          (x, y) => ((x.name.length * 31 + seed) % 7) - ((y.name.length * 31 + seed) % 7),
        );
        expect(admit({ ...given, waiting: shuffled })).toEqual(admit(given));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
