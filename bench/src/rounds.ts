import type { BenchJobs } from "./cluster.js";
import { cpuPerJob } from "./cpu.js";
import { atRate, saturate } from "./load.js";
import {
  directPath,
  httpFloorPath,
  httpPath,
  lambdaPath,
  type Path,
  type Servers,
  sqsPath,
} from "./paths.js";
import type { BenchScale } from "./run.js";
import { figure, percentile } from "./stats.js";

type Log = (line: string) => void;

export type PathName = "http" | "sqs" | "lambda" | "http-floor" | "sqs-floor";
/** Every path but direct: each is compared with direct in every round. */
export const ADAPTERS: readonly PathName[] = ["http", "sqs", "lambda", "http-floor", "sqs-floor"];

/** The arrival rate of a path's latency runs: the SQS pair's is lower (see `sqsRate`). */
export function rateOf(path: Pick<Path, "name">, scale: BenchScale): number {
  return path.name === "sqs" || path.name === "sqs-floor" ? scale.sqsRate : scale.rate;
}

/** Each round measures every path once, the order rotated so no path always goes first. */
function rotation<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/**
 * Starts direct and the named paths into `paths` (the caller stops them, started or not),
 * in one order: each floor just before its path.
 */
export async function startPaths(
  paths: Path[],
  servers: Servers,
  names: readonly PathName[],
  scale: BenchScale,
): Promise<Path[]> {
  const starts: Record<PathName, () => Promise<Path>> = {
    "http-floor": () => httpFloorPath(),
    http: () => httpPath(servers),
    "sqs-floor": () => sqsPath(servers, scale.concurrency, true),
    sqs: () => sqsPath(servers, scale.concurrency),
    lambda: () => lambdaPath(servers),
  };
  paths.push(await directPath(servers));
  for (const [name, start] of Object.entries(starts)) {
    if (names.includes(name as PathName)) paths.push(await start());
  }
  return paths;
}

/** Latency and saturation rounds over `paths` (direct first among them), with ratios to direct. */
export async function measurePaths(
  paths: readonly Path[],
  servers: Servers,
  jobs: BenchJobs,
  scale: BenchScale,
  log: Log,
) {
  log(`adapters reach the cluster ${servers.inCluster ? "in-cluster" : "by kubeconfig"}`);
  log(`warm-up: ${scale.warmupEvents} events per path`);
  for (const path of paths) {
    await saturate(path.fire, scale.concurrency, scale.warmupEvents);
    await path.settle?.();
  }
  await jobs.clear();

  const latency = new Map<string, { p50: number[]; p99: number[] }>();
  for (const path of paths) latency.set(path.name, { p50: [], p99: [] });
  const ratios = new Map<
    string,
    { p50: number[]; p99: number[]; throughput: number[]; beyondFloor: number[] }
  >();
  for (const name of ADAPTERS)
    ratios.set(name, { p50: [], p99: [], throughput: [], beyondFloor: [] });

  for (let round = 0; round < scale.rateRounds; round++) {
    log(
      `latency at ${scale.rate}/s (SQS ${scale.sqsRate}/s), round ${round + 1} of ${scale.rateRounds}`,
    );
    const this_round = new Map<string, { p50: number; p99: number }>();
    for (const path of rotation(paths, round)) {
      const samples = await atRate(path.fire, rateOf(path, scale), scale.rateEvents);
      const p50 = percentile(samples, 50);
      const p99 = percentile(samples, 99);
      this_round.set(path.name, { p50, p99 });
      latency.get(path.name)?.p50.push(p50);
      latency.get(path.name)?.p99.push(p99);
      log(`  ${path.name}: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
      await path.settle?.();
      await jobs.clear();
    }
    const direct = this_round.get("direct");
    for (const name of ADAPTERS) {
      const adapter = this_round.get(name);
      if (!direct || !adapter) continue;
      ratios.get(name)?.p50.push(adapter.p50 / direct.p50);
      ratios.get(name)?.p99.push(adapter.p99 / direct.p99);
      // What the path adds beyond its transport's floor, as a multiple of a bare create.
      const floor = this_round.get(`${name}-floor`);
      if (floor) ratios.get(name)?.beyondFloor.push((adapter.p50 - floor.p50) / direct.p50);
    }
  }

  const throughput = new Map<string, number[]>(paths.map((path) => [path.name, []]));
  const cpuByPath = new Map<string, Record<string, number>[]>(paths.map((p) => [p.name, []]));
  for (let round = 0; round < scale.saturationRounds; round++) {
    log(
      `saturation with ${scale.concurrency} senders, round ${round + 1} of ${scale.saturationRounds}`,
    );
    const this_round = new Map<string, number>();
    for (const path of rotation(paths, round)) {
      let perSec = 0;
      const pids = path.pid ? { ...servers.pids, adapter: path.pid } : servers.pids;
      const cpu = await cpuPerJob(pids, scale.saturationEvents, async () => {
        perSec = await saturate(path.fire, scale.concurrency, scale.saturationEvents);
        // Inside the count: the deletes that follow an SQS path's last lines are its work.
        await path.settle?.();
      });
      cpuByPath.get(path.name)?.push(cpu);
      this_round.set(path.name, perSec);
      throughput.get(path.name)?.push(perSec);
      await jobs.clear();
    }
    for (const name of ADAPTERS) {
      ratios
        .get(name)
        ?.throughput.push((this_round.get(name) ?? 0) / (this_round.get("direct") ?? 1));
    }
  }
  // The median of each process's CPU per Job over the saturated runs.
  const cpu = new Map<string, Record<string, number>>();
  for (const [name, runs] of cpuByPath) {
    const processes = Object.keys(runs[0] ?? {});
    cpu.set(
      name,
      Object.fromEntries(
        processes.map((process) => [process, figure(runs.map((run) => run[process] ?? 0)).median]),
      ),
    );
  }
  return { latency, throughput, ratios, cpu };
}
