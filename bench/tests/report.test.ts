import { describe, expect, it } from "vitest";
import { type E2eResults, SPLITS } from "../src/e2e-stats.js";
import type { PoolResults } from "../src/pools.js";
import { e2eTable, poolsTable } from "../src/report.js";
import { figure } from "../src/stats.js";

const splits = (p50: number) =>
  Object.fromEntries(
    SPLITS.map((split) => [split, { p50_ms: figure([p50, p50 + 2]), p99_ms: figure([p50 * 3]) }]),
  ) as E2eResults["paths"]["webhook"];

const e2e: E2eResults = {
  jobs_per_round: 20,
  rounds: 2,
  paths: { webhook: splits(8), sqs: splits(30), lambda: splits(9), poller: splits(500) },
  lead_over_poller: { webhook: figure([5, 6]), sqs: figure([3]), lambda: figure([5]) },
};

describe("e2eTable", () => {
  it("prints every split of every path and the poller, then each path's lead", () => {
    // Act
    const lines = e2eTable(e2e).trimEnd().split("\n");

    // Assess
    expect(lines).toHaveLength(2 + 4 * SPLITS.length + 3);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^e2e\.webhook\.event_to_job_ms +p50 9\.00 \(8\.00-10\.0\) +p99 24\.0$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^e2e\.poller\.event_to_finished_ms +p50 501/),
    );
    expect(lines.at(-3)).toMatch(/^e2e\.lead_over_poller\.webhook +5\.50 \(5\.00-6\.00\)$/);
  });
});

describe("poolsTable", () => {
  it("prints both modes' accept latency and burst rate, then the ratios", () => {
    const f = (median: number) => figure([median]);
    const mode = { accept_p50_ms: f(40), accept_p99_ms: f(90), burst_jobs_per_sec: f(3) };
    const pools: PoolResults = {
      agents: 4,
      jobs_per_round: 20,
      burst: 20,
      pool: mode,
      one_shot: { ...mode, accept_p50_ms: f(120) },
      accept_p50_ratio: f(3),
      burst_ratio: f(1.5),
    };
    const lines = poolsTable(pools).trimEnd().split("\n");
    expect(lines[0]).toContain("4 warm pool agents");
    expect(lines.slice(2).map((line) => line.split(/\s+/)[0])).toEqual([
      "pools.pool.accept_p50_ms",
      "pools.pool.accept_p99_ms",
      "pools.pool.burst_jobs_per_sec",
      "pools.one_shot.accept_p50_ms",
      "pools.one_shot.accept_p99_ms",
      "pools.one_shot.burst_jobs_per_sec",
      "pools.accept_p50_ratio",
      "pools.burst_ratio",
    ]);
    expect(lines.find((line) => line.startsWith("pools.one_shot.accept_p50_ms"))).toMatch(/ 120$/);
  });
});
