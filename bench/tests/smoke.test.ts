import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { HOSTILE_ANSWERS } from "../src/attack-stats.js";
import { SPLITS } from "../src/e2e-stats.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const figure = {
  median: expect.any(Number),
  min: expect.any(Number),
  max: expect.any(Number),
  runs: expect.any(Number),
};
const adapter = {
  p50_ms: figure,
  p99_ms: figure,
  throughput_per_sec: figure,
  overhead_p50: figure,
  overhead_p99: figure,
  throughput_ratio: figure,
  cpu_ms_per_job: expect.objectContaining({
    bench: expect.any(Number),
    "kube-apiserver": expect.any(Number),
  }),
};

// Keeps `npm run bench` from rotting: the real bench with tiny counts, its JSON checked
// for every key the issue names. Nothing here is timed or compared with a target.
it("npm run bench --smoke writes every figure the issue asks for", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ondemand-eks-bench-smoke-"));
  try {
    const out = join(dir, "latest.json");
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, "--smoke", "--out", out], {
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout).toContain("targets:");
    const results = JSON.parse(await readFile(out, "utf8"));
    expect(results).toMatchObject({
      machine: { cores: expect.any(Number), node: process.version },
      render: { per_sec: figure },
      library: { load_1000_ms: figure },
      direct: {
        p50_ms: figure,
        p99_ms: figure,
        throughput_per_sec: figure,
        cpu_ms_per_job: adapter.cpu_ms_per_job,
      },
      http: { ...adapter, rss_mb: figure, beyond_floor_p50: figure },
      sqs: { ...adapter, rss_mb: figure, beyond_floor_p50: figure },
      floors: { http: adapter, sqs: adapter },
      lambda: {
        ...adapter,
        cold_init_ms: figure,
        cold_init_kubeconfig_ms: figure,
        cold_init_describe_ms: figure,
        cold_init_empty_ms: figure,
        bundle_bytes: expect.any(Number),
      },
      burst: { seconds: figure, jobs: figure, lost: figure, duplicates: figure },
      attack: {
        hostile_connections: results.scale.attackConnections,
        valid_webhooks: results.scale.attackEvents,
        quiet: { p50_ms: figure, p99_ms: figure, rss_mib: figure, lost: figure },
        under_attack: { p50_ms: figure, p99_ms: figure, peak_rss_mib: figure, lost: figure },
        p99_ratio: figure,
      },
      e2e: {
        jobs_per_round: results.scale.e2eJobs,
        rounds: results.scale.e2eRounds,
        lead_over_poller: { webhook: figure, sqs: figure, lambda: figure },
      },
      controller: {
        rounds: results.scale.controllerRounds,
        process: { rss_mb: expect.any(Number), passes: expect.any(Number) },
      },
      pools: {
        agents: results.scale.poolAgents,
        pool: { accept_p50_ms: figure, accept_p99_ms: figure, burst_jobs_per_sec: figure },
        one_shot: { accept_p50_ms: figure, accept_p99_ms: figure, burst_jobs_per_sec: figure },
        accept_p50_ratio: figure,
        burst_ratio: figure,
      },
    });
    // Every size's first pass made one Job per scheduled job.
    for (const size of results.controller.sizes) {
      expect(size.first_pass.jobs_created).toBe(size.jobs);
      expect(size.second_pass).toMatchObject({ seconds: figure, kube_calls: figure });
    }
    // Every split of every path and of the poller, each a p50 and a p99 over rounds.
    for (const path of ["webhook", "sqs", "lambda", "poller"]) {
      for (const split of SPLITS) {
        expect(results.e2e.paths[path][split], `${path} ${split}`).toEqual({
          p50_ms: figure,
          p99_ms: figure,
        });
      }
    }
    expect(["in-cluster", "kubeconfig"]).toContain(results.adapter_auth);
    // Every hostile connection is counted under exactly one answer (one round at smoke scale).
    expect(Object.keys(results.attack.refused)).toEqual([...HOSTILE_ANSWERS]);
    const answered = HOSTILE_ANSWERS.map((a) => results.attack.refused[a].median);
    expect(answered.reduce((sum, n) => sum + n, 0)).toBe(results.scale.attackConnections);
    // Nothing lost or doubled even at smoke scale: a bench that loses jobs is broken.
    expect(results.burst.lost.max).toBe(0);
    expect(results.burst.duplicates.max).toBe(0);
    expect(results.burst.jobs.median).toBe(results.scale.burstEvents);
    for (const value of JSON.stringify(results).match(/-?\d+(\.\d+)?|null/g) ?? []) {
      expect(value).not.toBe("null");
    }
    expect(results.targets.map((t: { key: string }) => t.key)).toContain("render.per_sec");
    expect(results.targets.map((t: { key: string }) => t.key)).toContain(
      "e2e.paths.sqs.receipt_to_job.p50_ms",
    );
    expect(results.targets.map((t: { key: string }) => t.key)).toEqual(
      expect.arrayContaining(["attack.under_attack.peak_rss_mib", "attack.p99_ratio"]),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // The whole bench at smoke scale, its e2e section included: minutes on a busy machine.
}, 600_000);
