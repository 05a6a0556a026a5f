import { describe, expect, it } from "vitest";
import {
  E2E_PATHS,
  type E2ePathName,
  e2eResults,
  e2eTargets,
  type JobMoments,
  type RoundPercentiles,
  roundPercentiles,
  SPLITS,
  type Split,
  splitsOf,
} from "../src/e2e-stats.js";

/** A job whose steps are `gaps` apart (event to Job, to bound, to agent, to acquire, to finished). */
const job = (gaps: [number, number, number, number, number], sent = 1_000): JobMoments => {
  const [toJob, toBound, toAgent, toAcquire, toFinished] = gaps;
  const jobCreated = sent + toJob;
  const bound = jobCreated + toBound;
  const agentStarted = bound + toAgent;
  const acquired = agentStarted + toAcquire;
  return { sent, jobCreated, bound, agentStarted, acquired, finished: acquired + toFinished };
};

/** A round where every split of every path has these p50 and p99, and acquire p50s as given. */
const round = (
  acquireP50: Record<E2ePathName, number>,
  shareP50 = 8,
): Record<E2ePathName, Record<Split, RoundPercentiles>> => {
  const path = (name: E2ePathName) =>
    Object.fromEntries(
      SPLITS.map((split) => [
        split,
        split === "event_to_acquire"
          ? { p50: acquireP50[name], p99: acquireP50[name] * 2 }
          : split === "receipt_to_job"
            ? { p50: shareP50, p99: shareP50 * 2 }
            : { p50: 10, p99: 20 },
      ]),
    ) as Record<Split, RoundPercentiles>;
  return {
    webhook: path("webhook"),
    sqs: path("sqs"),
    lambda: path("lambda"),
    poller: path("poller"),
  };
};

describe("splitsOf", () => {
  it("splits a job into our path, scheduling, process start and the totals", () => {
    // Act
    const splits = splitsOf(job([8, 22, 30, 340, 500], 0));

    // Assess
    expect(splits).toEqual({
      event_to_job: 8,
      event_to_receipt: 0,
      receipt_to_job: 8,
      job_to_bound: 22,
      bound_to_agent: 30,
      agent_to_acquire: 340,
      event_to_acquire: 400,
      event_to_finished: 900,
    });
  });
});

describe("splitsOf, where a queue stands between", () => {
  it("gives the queue its delivery, and our share the rest of event to Job", () => {
    // Act
    const splits = splitsOf({ ...job([30, 22, 30, 340, 500], 1_000), received: 1_024 });

    // Assess
    expect(splits).toMatchObject({ event_to_job: 30, event_to_receipt: 24, receipt_to_job: 6 });
  });
});

describe("roundPercentiles", () => {
  it("takes the nearest-rank p50 and p99 of each split over the round's jobs", () => {
    // Prepare: event to Job of 1..100 ms, the slowest job also the slowest to bind
    const jobs = Array.from({ length: 100 }, (_, n) =>
      job([n + 1, n === 99 ? 500 : 5, 30, 60, 40], n * 2_000),
    );

    // Act
    const percentiles = roundPercentiles(jobs);

    // Assess
    expect(percentiles.event_to_job).toEqual({ p50: 50, p99: 99 });
    expect(percentiles.job_to_bound).toEqual({ p50: 5, p99: 5 });
    expect(percentiles.bound_to_agent).toEqual({ p50: 30, p99: 30 });
    expect(percentiles.event_to_acquire).toEqual({ p50: 50 + 5 + 30 + 60, p99: 99 + 5 + 30 + 60 });
  });

  it("gives a single job's splits as both p50 and p99", () => {
    const percentiles = roundPercentiles([job([9, 10, 30, 50, 40])]);
    expect(percentiles.event_to_finished).toEqual({ p50: 139, p99: 139 });
  });
});

describe("e2eResults and e2eTargets", () => {
  it("takes each path's lead over the poller per round, and its spread over rounds", () => {
    // Prepare
    const rounds = [
      round({ webhook: 100, sqs: 200, lambda: 100, poller: 600 }),
      round({ webhook: 150, sqs: 300, lambda: 120, poller: 600 }),
      round({ webhook: 120, sqs: 150, lambda: 100, poller: 300 }),
    ];

    // Act
    const results = e2eResults(rounds, 20);

    // Assess
    expect(results).toMatchObject({ jobs_per_round: 20, rounds: 3 });
    expect(results.lead_over_poller.webhook).toEqual({ median: 4, min: 2.5, max: 6, runs: 3 });
    expect(results.lead_over_poller.sqs).toEqual({ median: 2, min: 2, max: 3, runs: 3 });
    expect(results.paths.poller.event_to_acquire.p50_ms).toEqual({
      median: 600,
      min: 300,
      max: 600,
      runs: 3,
    });
    expect(results.paths.sqs.event_to_acquire.p99_ms.median).toBe(400);
    expect(e2eTargets(results).every((target) => target.met)).toBe(true);
  });

  it("misses the lead target when the poller was first in one round, though not on median", () => {
    // Prepare
    const rounds = [
      round({ webhook: 100, sqs: 100, lambda: 100, poller: 600 }),
      round({ webhook: 100, sqs: 700, lambda: 100, poller: 600 }),
      round({ webhook: 100, sqs: 100, lambda: 100, poller: 600 }),
    ];

    // Act
    const missed = e2eTargets(e2eResults(rounds, 20)).filter((target) => !target.met);

    // Assess
    expect(missed.map((target) => target.key)).toEqual(["e2e.lead_over_poller.sqs.min"]);
    expect(missed[0]?.value).toBeCloseTo(600 / 700, 3);
  });

  it("misses our-share target at 20 ms p50 and meets it just below", () => {
    // Prepare
    const acquire = { webhook: 100, sqs: 100, lambda: 100, poller: 600 };

    // Act
    const at20 = e2eTargets(e2eResults([round(acquire, 20)], 2));
    const below = e2eTargets(e2eResults([round(acquire, 19.9)], 2));

    // Assess
    const share = (targets: typeof at20) =>
      targets.filter((target) => target.key.endsWith("receipt_to_job.p50_ms"));
    expect(share(at20).map((target) => target.met)).toEqual([false, false, false]);
    expect(share(below).map((target) => target.met)).toEqual([true, true, true]);
    expect(share(below).map((target) => target.key)).toEqual(
      E2E_PATHS.map((path) => `e2e.paths.${path}.receipt_to_job.p50_ms`),
    );
  });
});
