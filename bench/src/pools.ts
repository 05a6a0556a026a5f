import { randomBytes } from "node:crypto";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { processIo, run } from "@ondemand-eks/cli";
import {
  type BuildkiteEmulator,
  type LocalBuildkite,
  startLocalBuildkite,
  startTestControlPlane,
} from "@ondemand-eks/testenv";
import { momentOf } from "./e2e.js";
import { runCli } from "./e2e-paths.js";
import { type Figure, figure, percentile } from "./stats.js";

/**
 * The bench's `pools` section: short jobs (`true`) through a warm long-polling pool
 * against one-shot Jobs made by `serve http`, in the same run, on a control plane of its
 * own with the test kubelet running the real buildkite-agent (as the `e2e` section).
 *
 * One emulator serves both: jobs on the queue `default` are delivered as signed
 * webhooks to `serve http`, which makes a Job each; jobs on the queue `pool` are left to
 * the pool's agents (the webhook server serves `default` only, so it ignores them). The
 * pool is a fixed Deployment of `poolAgents` agents, applied with `ondemand-eks reconcile
 * deployments` and measured once every agent is connected.
 *
 * - latency: one job at a time, each after a pause of 200 to 1,200 ms, from the job
 *   being scheduled to an agent accepting it;
 * - throughput: `poolBurst` jobs created at once, from the first scheduled to the last
 *   finished.
 *
 * @module
 */

export interface PoolBenchScale {
  readonly poolJobs: number;
  readonly poolBurst: number;
  readonly poolRounds: number;
  readonly poolAgents: number;
}

export interface PoolModeFigures {
  /** Per round: the p50 and p99 of scheduled to accepted, ms. */
  readonly accept_p50_ms: Figure;
  readonly accept_p99_ms: Figure;
  /** Per round: jobs finished per second, `poolBurst` jobs at once. */
  readonly burst_jobs_per_sec: Figure;
}

export interface PoolResults {
  readonly agents: number;
  readonly jobs_per_round: number;
  readonly burst: number;
  readonly pool: PoolModeFigures;
  readonly one_shot: PoolModeFigures;
  /** Per round: one-shot's accept p50 / the pool's; how many times sooner a pool starts a job. */
  readonly accept_p50_ratio: Figure;
  /** Per round: the pool's burst jobs per second / one-shot's. */
  readonly burst_ratio: Figure;
}

type Log = (line: string) => void;
type Mode = "pool" | "one_shot";

const DEFAULT_DEFINITION = fileURLToPath(new URL("../../pods/default.yaml", import.meta.url));
const POOL = "bench-pool";

/** Waits for the job to finish (or be canceled); throws after `timeoutMs` or on a failure. */
async function finished(buildkite: BuildkiteEmulator, id: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = buildkite.job(id);
    if (view.state === "finished" && view.exitStatus === 0) return view;
    if (view.state === "finished" || view.state === "canceled" || Date.now() > deadline) {
      const story = view.timeline.map((e) => `  ${e.at} ${e.event} ${e.detail ?? ""}`).join("\n");
      throw new Error(`pools: job ${id} ended ${view.state}, exit ${view.exitStatus}:\n${story}`);
    }
    await sleep(20);
  }
}

/** Connected agents on the emulator's queue `queue`, from its queue metrics. */
async function connectedAgents(local: LocalBuildkite, queue: string): Promise<number> {
  const response = await fetch(`${local.buildkite.url}/metrics/queue?name=${queue}`, {
    headers: { authorization: `Token ${local.agentToken}` },
  });
  const body = (await response.json()) as { agents?: { total?: number } };
  return body.agents?.total ?? 0;
}

/** One job at a time: scheduled-to-accepted of each. */
async function latencies(local: LocalBuildkite, mode: Mode, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let n = 0; n < count; n++) {
    await sleep(200 + Math.random() * 1_000);
    const id = local.buildkite.createJob({ command: "true", queue: queueOf(mode) });
    const view = await finished(local.buildkite, id, 120_000);
    samples.push(momentOf(view, "accepted by") - momentOf(view, "scheduled"));
  }
  return samples;
}

/** `count` jobs at once: jobs per second from the first scheduled to the last finished. */
async function burst(local: LocalBuildkite, mode: Mode, count: number): Promise<number> {
  const ids = Array.from({ length: count }, () =>
    local.buildkite.createJob({ command: "true", queue: queueOf(mode) }),
  );
  const views = await Promise.all(ids.map((id) => finished(local.buildkite, id, 300_000)));
  const first = Math.min(...views.map((view) => momentOf(view, "scheduled")));
  const last = Math.max(...views.map((view) => momentOf(view, "finished with exit status")));
  return count / ((last - first) / 1000);
}

const queueOf = (mode: Mode) => (mode === "pool" ? "pool" : "default");

/** Starts the section's servers, measures both modes, stops everything, returns the figures. */
export async function runPools(scale: PoolBenchScale, log: Log): Promise<PoolResults> {
  const plane = await startTestControlPlane("bench-pools");
  let local: LocalBuildkite | undefined;
  let server: ReturnType<typeof runCli> | undefined;
  const library = await mkdtemp(join(tmpdir(), "bench-pools-"));
  try {
    if (!plane.info.available) throw new Error(`the pools section needs Go: ${plane.info.reason}`);
    const { kubeconfig } = plane.info.value;
    local = await startLocalBuildkite({ kubeconfig });
    const clusterFlags = ["--kubeconfig", kubeconfig, "--agent-endpoint", local.buildkite.url];

    // One-shot: `serve http`, given the emulator's signed webhooks.
    const token = randomBytes(24).toString("hex");
    server = runCli(
      ["serve", "http", "--port", "0", "--host", "127.0.0.1", ...clusterFlags],
      { BUILDKITE_WEBHOOK_TOKEN: token },
      /listening on (\S+)/,
    );
    const url = await server.announced;
    local.buildkite.deliverTo({ kind: "webhook", url: `${url}/webhook`, token, signed: true });

    // The pool: a fixed Deployment, applied as a platform team would.
    await copyFile(DEFAULT_DEFINITION, join(library, "default.yaml"));
    await writeFile(
      join(library, `${POOL}.yaml`),
      [
        `name: ${POOL}`,
        "extends: default",
        "mode: long-polling",
        "longPolling:",
        "  queue: pool",
        `  replicas: ${scale.poolAgents}`,
        "",
      ].join("\n"),
    );
    const status = await run(["reconcile", "deployments", "--library", library, ...clusterFlags], {
      ...processIo(),
      stdout: () => {},
      stderr: (text) => log(`pools: reconcile: ${text.trim()}`),
      env: {},
    });
    if (status !== 0) throw new Error(`pools: reconcile deployments exited ${status}`);
    const deadline = Date.now() + 120_000;
    while ((await connectedAgents(local, "pool")) < scale.poolAgents) {
      if (Date.now() > deadline)
        throw new Error("pools: the pool's agents did not connect in 120 s");
      await sleep(200);
    }
    log(`pools: ${scale.poolAgents} pool agents connected; warming up`);
    for (const mode of ["pool", "one_shot"] as const) await latencies(local, mode, 1);

    const rounds: Record<Mode, { p50: number; p99: number; perSec: number }>[] = [];
    for (let round = 0; round < scale.poolRounds; round++) {
      const order: Mode[] = round % 2 === 0 ? ["pool", "one_shot"] : ["one_shot", "pool"];
      const results: Partial<Record<Mode, { p50: number; p99: number; perSec: number }>> = {};
      for (const mode of order) {
        const samples = await latencies(local, mode, scale.poolJobs);
        const perSec = await burst(local, mode, scale.poolBurst);
        results[mode] = { p50: percentile(samples, 50), p99: percentile(samples, 99), perSec };
        log(
          `pools round ${round + 1}: ${mode} accept p50 ${results[mode]?.p50} ms, ${scale.poolBurst} at once ${perSec.toFixed(1)} jobs/s`,
        );
      }
      rounds.push(results as Record<Mode, { p50: number; p99: number; perSec: number }>);
    }
    const modeFigures = (mode: Mode): PoolModeFigures => ({
      accept_p50_ms: figure(rounds.map((r) => r[mode].p50)),
      accept_p99_ms: figure(rounds.map((r) => r[mode].p99)),
      burst_jobs_per_sec: figure(rounds.map((r) => r[mode].perSec)),
    });
    return {
      agents: scale.poolAgents,
      jobs_per_round: scale.poolJobs,
      burst: scale.poolBurst,
      pool: modeFigures("pool"),
      one_shot: modeFigures("one_shot"),
      accept_p50_ratio: figure(rounds.map((r) => r.one_shot.p50 / Math.max(r.pool.p50, 1))),
      burst_ratio: figure(rounds.map((r) => r.pool.perSec / r.one_shot.perSec)),
    };
  } finally {
    await server?.stop().catch(() => {});
    await local?.close();
    await plane.teardown();
    await rm(library, { recursive: true, force: true });
  }
}
