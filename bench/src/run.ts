import { readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { runAttack } from "./attack.js";
import { type AttackResults, attackResults } from "./attack-stats.js";
import { burst } from "./burst.js";
import type { BenchJobs } from "./cluster.js";
import { bundleBytes, coldStarts } from "./cold-start.js";
import { runController } from "./controller.js";
import type { ControllerResults } from "./controller-stats.js";
import { runE2e } from "./e2e.js";
import type { E2eResults } from "./e2e-stats.js";
import type { Path, Servers } from "./paths.js";
import { type PoolResults, runPools } from "./pools.js";
import { libraryLoadMs, renderPerSecond } from "./pure.js";
import { ADAPTERS, measurePaths, type PathName, startPaths } from "./rounds.js";
import { withServers } from "./servers.js";
import { type Figure, figure } from "./stats.js";

/** How much of everything to do: the full bench, or the smoke test's tiny version. */
export interface BenchScale {
  readonly renderMs: number;
  readonly renderRuns: number;
  readonly libraryCount: number;
  readonly libraryRuns: number;
  /** Fixed arrival rate (events per second, below saturation) and events per run. */
  readonly rate: number;
  readonly rateEvents: number;
  readonly rateRounds: number;
  /**
   * The SQS path's and its floor's arrival rate: below `rate`, because at 40/s on two
   * cores moto (one Python thread's worth of CPU, 8 to 14 ms a message) and the
   * control plane keep the machine half busy, and the p50 measured queueing that came
   * and went with the machine's load (README, "The SQS path's p50").
   */
  readonly sqsRate: number;
  /** Senders at once for saturation, events per run. */
  readonly concurrency: number;
  readonly saturationEvents: number;
  readonly saturationRounds: number;
  readonly burstEvents: number;
  readonly burstRuns: number;
  readonly coldRuns: number;
  readonly warmupEvents: number;
  /**
   * The attack: hostile connections held open, valid webhooks per phase (at `rate`), and
   * rounds of a quiet phase then an attacked one.
   */
  readonly attackConnections: number;
  readonly attackEvents: number;
  readonly attackRounds: number;
  /** End to end: jobs per path in a round, one at a time, and rounds. */
  readonly e2eJobs: number;
  readonly e2eRounds: number;
  /** The controller: scheduled jobs per size (smallest first), quiet passes per size, process passes. */
  readonly controllerJobs: readonly number[];
  readonly controllerRounds: number;
  readonly controllerProcessPasses: number;
  /** Pools: jobs one at a time per mode in a round, jobs at once, rounds, the pool's agents. */
  readonly poolJobs: number;
  readonly poolBurst: number;
  readonly poolRounds: number;
  readonly poolAgents: number;
}

export const FULL: BenchScale = {
  renderMs: 1_000,
  renderRuns: 5,
  libraryCount: 1_000,
  libraryRuns: 5,
  rate: 40,
  rateEvents: 160,
  sqsRate: 20,
  rateRounds: 4,
  concurrency: 16,
  saturationEvents: 400,
  saturationRounds: 3,
  burstEvents: 5_000,
  burstRuns: 3,
  coldRuns: 5,
  warmupEvents: 100,
  attackConnections: 400,
  attackEvents: 400,
  attackRounds: 3,
  e2eJobs: 20,
  e2eRounds: 3,
  controllerJobs: [100, 1_000, 10_000],
  controllerRounds: 3,
  controllerProcessPasses: 3,
  poolJobs: 20,
  poolBurst: 20,
  poolRounds: 3,
  poolAgents: 4,
};

export const SMOKE: BenchScale = {
  renderMs: 50,
  renderRuns: 2,
  libraryCount: 20,
  libraryRuns: 2,
  rate: 20,
  rateEvents: 6,
  sqsRate: 20,
  rateRounds: 2,
  concurrency: 2,
  saturationEvents: 6,
  saturationRounds: 2,
  burstEvents: 30,
  burstRuns: 1,
  coldRuns: 1,
  warmupEvents: 2,
  attackConnections: 40,
  attackEvents: 6,
  attackRounds: 1,
  e2eJobs: 2,
  e2eRounds: 1,
  controllerJobs: [20],
  controllerRounds: 1,
  controllerProcessPasses: 1,
  poolJobs: 2,
  poolBurst: 2,
  poolRounds: 1,
  poolAgents: 1,
};

export { ADAPTERS, type PathName } from "./rounds.js";

/** What `npm run bench` writes to bench/results/latest.json. */
export interface BenchResults {
  readonly machine: { cores: number; cpu: string; node: string; platform: string };
  readonly date: string;
  readonly scale: BenchScale;
  /** How the adapters' processes reached the cluster: as in a pod, or by kubeconfig. */
  readonly adapter_auth: "in-cluster" | "kubeconfig";
  readonly render: { per_sec: Figure };
  readonly library: { load_1000_ms: Figure; definitions: number };
  readonly direct: {
    p50_ms: Figure;
    p99_ms: Figure;
    throughput_per_sec: Figure;
    cpu_ms_per_job: CpuPerJob;
  };
  readonly http: AdapterFigures & { rss_mb: Figure };
  readonly sqs: AdapterFigures & { rss_mb: Figure };
  /**
   * The same loads through stand-ins that do only the transport: an HTTP server that
   * answers 202, an SQS consumer that receives, reports and deletes. What the http and
   * sqs paths cannot go below on this machine.
   */
  readonly floors: { readonly http: AdapterFigures; readonly sqs: AdapterFigures };
  readonly lambda: AdapterFigures & {
    cold_init_ms: Figure;
    cold_init_kubeconfig_ms: Figure;
    /** Without the endpoint and CA: DescribeCluster at init (moto answers it). */
    cold_init_describe_ms: Figure;
    cold_init_empty_ms: Figure;
    bundle_bytes: number;
  };
  readonly burst: {
    events: number;
    seconds: Figure;
    jobs: Figure;
    lost: Figure;
    duplicates: Figure;
  };
  /** Valid webhooks' latency and the server's memory while hostile connections stall (attack.ts). */
  readonly attack: AttackResults;
  /** From the emulator's event to the agent's acquire call and to the job finished (e2e.ts). */
  readonly e2e: E2eResults;
  /** One reconcile pass against 100 to 10,000 scheduled jobs, and the controller's memory (controller.ts). */
  readonly controller: ControllerResults;
  /** Short jobs through a warm long-polling pool against one-shot Jobs (pools.ts). */
  readonly pools: PoolResults;
}

/** CPU milliseconds per Job by process in the saturated runs (medians). */
export type CpuPerJob = Readonly<Record<string, number>>;

export interface AdapterFigures {
  readonly p50_ms: Figure;
  readonly p99_ms: Figure;
  readonly throughput_per_sec: Figure;
  readonly overhead_p50: Figure;
  readonly overhead_p99: Figure;
  readonly throughput_ratio: Figure;
  readonly cpu_ms_per_job: CpuPerJob;
  /**
   * http and sqs: (the path's p50 - its floor's p50) / direct's p50, per round: the
   * path's own cost beyond the transport, as a multiple of a bare create.
   */
  readonly beyond_floor_p50?: Figure;
}

type Log = (line: string) => void;

async function repeat(runs: number, measure: () => Promise<number>): Promise<number[]> {
  const values: number[] = [];
  for (let run = 0; run < runs; run++) values.push(await measure());
  return values;
}

/**
 * Only direct and the named paths, for working on one of them: median p50, p99 and
 * throughput of each, and the ratios to direct.
 */
export async function runPathsOnly(scale: BenchScale, names: readonly PathName[], log: Log) {
  return withServers(async ({ servers, jobs }) => {
    const paths: Path[] = [];
    try {
      const { latency, throughput, ratios, cpu } = await measurePaths(
        await startPaths(paths, servers, names, scale),
        servers,
        jobs,
        scale,
        log,
      );
      const median = (values: number[] | undefined) => figure(values ?? []).median;
      return Object.fromEntries(
        paths.map((path) => {
          const ratio = ratios.get(path.name);
          return [
            path.name,
            {
              p50_ms: median(latency.get(path.name)?.p50),
              p99_ms: median(latency.get(path.name)?.p99),
              throughput_per_sec: median(throughput.get(path.name)),
              cpu_ms_per_job: cpu.get(path.name),
              ...(ratio
                ? {
                    overhead_p50: median(ratio.p50),
                    overhead_p99: median(ratio.p99),
                    throughput_ratio: median(ratio.throughput),
                    ...(ratio.beyondFloor.length > 0
                      ? { beyond_floor_p50: median(ratio.beyondFloor) }
                      : {}),
                    rss_mb: path.peakRssMb?.(),
                  }
                : {}),
            },
          ];
        }),
      );
    } finally {
      for (const path of paths) await path.stop().catch(() => {});
    }
  });
}

/** Only the burst, for working on it: seconds, Jobs, lost and duplicates of each run. */
export async function runBurstOnly(scale: BenchScale, log: Log) {
  return withServers(async ({ servers, jobs }) => {
    const results = [];
    for (let run = 0; run < scale.burstRuns; run++) {
      log(`burst ${run + 1}: ${scale.burstEvents} events`);
      results.push(await burst(servers, jobs, scale.burstEvents, scale.concurrency, 240_000, log));
    }
    return results;
  });
}

/** Only the attack section, for working on it. */
export async function runAttackOnly(scale: BenchScale, log: Log): Promise<AttackResults> {
  return withServers(async ({ servers, jobs }) => attackSection(servers, jobs, scale, log));
}

async function attackSection(
  servers: Servers,
  jobs: BenchJobs,
  scale: BenchScale,
  log: Log,
): Promise<AttackResults> {
  log(
    `attack: ${scale.attackConnections} hostile connections, ${scale.attackEvents} valid webhooks at ${scale.rate}/s per phase`,
  );
  const rounds = await runAttack(servers, jobs, scale, log);
  return attackResults(rounds, {
    hostile: scale.attackConnections,
    valid: scale.attackEvents,
    rate: scale.rate,
  });
}

/** Runs the whole bench against servers of its own, and returns the figures. */
export async function runBench(scale: BenchScale, log: Log): Promise<BenchResults> {
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  log(`machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}`);

  // Pure work first, while nothing else runs.
  log("render: manifest builds per second");
  const render = await repeat(scale.renderRuns, () => renderPerSecond(scale.renderMs));
  log(`library: loading ${scale.libraryCount} definitions`);
  const library = await repeat(scale.libraryRuns, () => libraryLoadMs(scale.libraryCount));

  const measured = await withServers(
    async ({
      servers,
      jobs,
      state,
      moto,
    }): Promise<Omit<BenchResults, "e2e" | "controller" | "pools">> => {
      const paths: Path[] = [];
      try {
        const { latency, throughput, ratios, cpu } = await measurePaths(
          await startPaths(paths, servers, ADAPTERS, scale),
          servers,
          jobs,
          scale,
          log,
        );
        const rss = (name: string) => {
          const path = paths.find((p) => p.name === name);
          return figure([path?.peakRssMb?.() ?? Number.NaN]);
        };
        const httpRss = rss("http");
        const sqsRss = rss("sqs");
        for (const path of paths.splice(0)) await path.stop();

        log(`burst: ${scale.burstEvents} events through the SQS consumer`);
        const bursts = [];
        for (let run = 0; run < scale.burstRuns; run++) {
          bursts.push(
            await burst(servers, jobs, scale.burstEvents, scale.concurrency, 240_000, log),
          );
        }

        const attack = await attackSection(servers, jobs, scale, log);

        log("Lambda cold starts under the Runtime Interface Emulator");
        const cold = await coldStarts(scale.coldRuns, {
          kubeconfig: servers.kubeconfig,
          endpoint: state.server,
          caPem: await readFile(state.pki.caCert, "utf8"),
          motoEndpoint: moto.endpoint,
        });

        const adapter = (name: PathName): AdapterFigures => ({
          p50_ms: figure(latency.get(name)?.p50 ?? []),
          p99_ms: figure(latency.get(name)?.p99 ?? []),
          throughput_per_sec: figure(throughput.get(name) ?? []),
          overhead_p50: figure(ratios.get(name)?.p50 ?? []),
          overhead_p99: figure(ratios.get(name)?.p99 ?? []),
          throughput_ratio: figure(ratios.get(name)?.throughput ?? []),
          ...(name === "http" || name === "sqs"
            ? { beyond_floor_p50: figure(ratios.get(name)?.beyondFloor ?? []) }
            : {}),
          cpu_ms_per_job: cpu.get(name) ?? {},
        });
        return {
          machine,
          date: new Date().toISOString(),
          scale,
          adapter_auth: servers.inCluster ? "in-cluster" : "kubeconfig",
          render: { per_sec: figure(render) },
          library: { load_1000_ms: figure(library), definitions: scale.libraryCount },
          direct: {
            p50_ms: figure(latency.get("direct")?.p50 ?? []),
            p99_ms: figure(latency.get("direct")?.p99 ?? []),
            throughput_per_sec: figure(throughput.get("direct") ?? []),
            cpu_ms_per_job: cpu.get("direct") ?? {},
          },
          http: { ...adapter("http"), rss_mb: httpRss },
          sqs: { ...adapter("sqs"), rss_mb: sqsRss },
          floors: { http: adapter("http-floor"), sqs: adapter("sqs-floor") },
          lambda: {
            ...adapter("lambda"),
            cold_init_ms: figure(cold.eks),
            cold_init_kubeconfig_ms: figure(cold.kubeconfig),
            cold_init_describe_ms: figure(cold.describe),
            cold_init_empty_ms: figure(cold.empty),
            bundle_bytes: await bundleBytes(),
          },
          burst: {
            events: scale.burstEvents,
            seconds: figure(bursts.map((b) => b.seconds)),
            jobs: figure(bursts.map((b) => b.jobs)),
            lost: figure(bursts.map((b) => b.lost)),
            duplicates: figure(bursts.map((b) => b.duplicates)),
          },
          attack,
        };
      } finally {
        for (const path of paths) await path.stop().catch(() => {});
      }
    },
  );
  // On a control plane of its own, with the scheduler, the controller manager and nodes.
  log(`e2e: ${scale.e2eRounds} rounds of ${scale.e2eJobs} jobs per path`);
  const e2e = await runE2e(scale, log);
  // On a control plane of its own too: 10,000 Jobs would weigh on every other section.
  log(`controller: passes over ${scale.controllerJobs.join(", ")} scheduled jobs`);
  const controller = await runController(scale, log);
  log(`pools: ${scale.poolAgents} pool agents against one-shot Jobs, short jobs`);
  return { ...measured, e2e, controller, pools: await runPools(scale, log) };
}
