import { type AttackResults, attackTargets, HOSTILE_ANSWERS } from "./attack-stats.js";
import { controllerRows, controllerTargets } from "./controller-stats.js";
import { E2E_PATHS, type E2eResults, e2eTargets, SPLITS } from "./e2e-stats.js";
import type { PoolResults } from "./pools.js";
import type { BenchResults } from "./run.js";
import type { Figure } from "./stats.js";

/** A target from the issue, and whether this run met it. */
export interface Target {
  readonly key: string;
  readonly value: number;
  readonly limit: string;
  readonly met: boolean;
}

/** The issue's targets, checked against the medians. */
export function targets(r: BenchResults): Target[] {
  const atMost = (key: string, value: number, limit: number): Target => ({
    key,
    value,
    limit: `<= ${limit}`,
    met: value <= limit,
  });
  const atLeast = (key: string, value: number, limit: number): Target => ({
    key,
    value,
    limit: `>= ${limit}`,
    met: value >= limit,
  });
  return [
    atMost("http.overhead_p50", r.http.overhead_p50.median, 1.1),
    atMost("http.overhead_p99", r.http.overhead_p99.median, 1.1),
    atLeast("http.throughput_ratio", r.http.throughput_ratio.median, 0.9),
    atMost("sqs.overhead_p50", r.sqs.overhead_p50.median, 1.1),
    atMost("sqs.overhead_p99", r.sqs.overhead_p99.median, 1.1),
    atLeast("sqs.throughput_ratio", r.sqs.throughput_ratio.median, 0.9),
    // Issue 15: the SQS path's own cost beyond its transport (README, "The SQS path's p50").
    atMost("sqs.beyond_floor_p50", r.sqs.beyond_floor_p50?.median ?? Number.NaN, 1.25),
    atLeast("render.per_sec", r.render.per_sec.median, 20_000),
    atMost("lambda.cold_init_ms", r.lambda.cold_init_ms.median, 300),
    atMost("lambda.bundle_bytes", r.lambda.bundle_bytes, 3 * 1024 * 1024),
    atMost("http.rss_mb", r.http.rss_mb.median, 150),
    atMost("sqs.rss_mb", r.sqs.rss_mb.median, 150),
    atMost("burst.lost", r.burst.lost.max, 0),
    atMost("burst.duplicates", r.burst.duplicates.max, 0),
    ...attackTargets(r.attack),
    ...e2eTargets(r.e2e),
    ...controllerTargets(r.controller),
  ];
}

const number = (value: number) =>
  Math.abs(value) >= 100
    ? value.toFixed(0)
    : Math.abs(value) >= 10
      ? value.toFixed(1)
      : value.toFixed(2);

const cell = (f: Figure) =>
  f.runs > 1 ? `${number(f.median)} (${number(f.min)}-${number(f.max)})` : number(f.median);

/**
 * The `e2e` section as plain text: each path's splits (p50 and p99, median and spread
 * over rounds), then each path's lead over the poller.
 *
 * @example
 * process.stderr.write(e2eTable(results.e2e));
 */
export function e2eTable(e2e: E2eResults): string {
  const rows: [string, string][] = [];
  for (const path of [...E2E_PATHS, "poller"] as const) {
    for (const split of SPLITS) {
      const f = e2e.paths[path][split];
      rows.push([`e2e.${path}.${split}_ms`, `p50 ${cell(f.p50_ms)}   p99 ${cell(f.p99_ms)}`]);
    }
  }
  for (const path of E2E_PATHS) {
    rows.push([`e2e.lead_over_poller.${path}`, cell(e2e.lead_over_poller[path])]);
  }
  const width = Math.max(...rows.map(([key]) => key.length));
  return `${[
    `e2e: one job at a time, ${e2e.jobs_per_round} per path in each of ${e2e.rounds} rounds; milliseconds; per-round p50 and p99, median (min-max) over rounds`,
    "lead_over_poller: the poller's event-to-acquire p50 / the path's, per round",
    ...rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`),
  ].join("\n")}\n`;
}

/**
 * The `pools` section as plain text: each mode's accept latency and burst rate, and the
 * ratios between them.
 *
 * @example
 * process.stderr.write(poolsTable(results.pools));
 */
export function poolsTable(p: PoolResults): string {
  const rows: [string, string][] = [];
  for (const mode of ["pool", "one_shot"] as const) {
    rows.push([`pools.${mode}.accept_p50_ms`, cell(p[mode].accept_p50_ms)]);
    rows.push([`pools.${mode}.accept_p99_ms`, cell(p[mode].accept_p99_ms)]);
    rows.push([`pools.${mode}.burst_jobs_per_sec`, cell(p[mode].burst_jobs_per_sec)]);
  }
  rows.push(["pools.accept_p50_ratio", cell(p.accept_p50_ratio)]);
  rows.push(["pools.burst_ratio", cell(p.burst_ratio)]);
  const width = Math.max(...rows.map(([key]) => key.length));
  return `${[
    `pools: \`true\` jobs through ${p.agents} warm pool agents and through one-shot Jobs (serve http); ${p.jobs_per_round} one at a time and ${p.burst} at once per round`,
    "accept: from scheduled to an agent accepting the job; accept_p50_ratio: one-shot's / the pool's; burst_ratio: the pool's jobs/s / one-shot's",
    ...rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`),
  ].join("\n")}\n`;
}

/** The `attack` section's rows: each phase's figures, the ratio, the hostile connections' answers. */
function attackRows(a: AttackResults): [string, string][] {
  return [
    ["attack.quiet.p50_ms", cell(a.quiet.p50_ms)],
    ["attack.quiet.p99_ms", cell(a.quiet.p99_ms)],
    ["attack.quiet.rss_mib", cell(a.quiet.rss_mib)],
    ["attack.under_attack.p50_ms", cell(a.under_attack.p50_ms)],
    ["attack.under_attack.p99_ms", cell(a.under_attack.p99_ms)],
    ["attack.under_attack.peak_rss_mib", cell(a.under_attack.peak_rss_mib)],
    ["attack.under_attack.lost", cell(a.under_attack.lost)],
    ["attack.p99_ratio", cell(a.p99_ratio)],
    [
      "attack.refused",
      HOSTILE_ANSWERS.map((answer) => `${answer} ${cell(a.refused[answer])}`).join(", "),
    ],
  ];
}

/**
 * The `attack` section as plain text: its figures, then its targets.
 *
 * @example
 * process.stderr.write(attackTable(results.attack));
 */
export function attackTable(a: AttackResults): string {
  const rows = attackRows(a);
  const checks = attackTargets(a);
  const width = Math.max(...rows.map(([key]) => key.length), ...checks.map((t) => t.key.length));
  return `${[
    `attack: ${a.hostile_connections} hostile connections held; ${a.valid_webhooks} valid webhooks at ${a.rate_per_sec}/s per phase; median (min-max) over ${a.rounds} rounds`,
    ...rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`),
    "targets:",
    ...checks.map(
      (t) =>
        `${t.met ? "  met   " : "  MISSED"} ${t.key.padEnd(width)}  ${number(t.value)} ${t.limit}`,
    ),
  ].join("\n")}\n`;
}

/** The results as a plain-text table: every figure, then the targets. */
export function table(r: BenchResults): string {
  const rows: [string, string][] = [
    ["render.per_sec", cell(r.render.per_sec)],
    [`library.load_${r.library.definitions}_ms`, cell(r.library.load_1000_ms)],
    ["direct.p50_ms", cell(r.direct.p50_ms)],
    ["direct.p99_ms", cell(r.direct.p99_ms)],
    ["direct.throughput_per_sec", cell(r.direct.throughput_per_sec)],
  ];
  const paths = [
    ["http", r.http],
    ["floors.http", r.floors.http],
    ["sqs", r.sqs],
    ["floors.sqs", r.floors.sqs],
    ["lambda", r.lambda],
  ] as const;
  for (const [name, a] of paths) {
    rows.push(
      [`${name}.p50_ms`, cell(a.p50_ms)],
      [`${name}.p99_ms`, cell(a.p99_ms)],
      [`${name}.throughput_per_sec`, cell(a.throughput_per_sec)],
      [`${name}.overhead_p50`, cell(a.overhead_p50)],
      [`${name}.overhead_p99`, cell(a.overhead_p99)],
      [`${name}.throughput_ratio`, cell(a.throughput_ratio)],
    );
  }
  rows.push(
    ["http.beyond_floor_p50", r.http.beyond_floor_p50 ? cell(r.http.beyond_floor_p50) : "-"],
    ["sqs.beyond_floor_p50", r.sqs.beyond_floor_p50 ? cell(r.sqs.beyond_floor_p50) : "-"],
    ["http.rss_mb", cell(r.http.rss_mb)],
    ["sqs.rss_mb", cell(r.sqs.rss_mb)],
    ["lambda.cold_init_ms", cell(r.lambda.cold_init_ms)],
    ["lambda.cold_init_describe_ms", cell(r.lambda.cold_init_describe_ms)],
    ["lambda.cold_init_kubeconfig_ms", cell(r.lambda.cold_init_kubeconfig_ms)],
    ["lambda.cold_init_empty_ms", cell(r.lambda.cold_init_empty_ms)],
    ["lambda.bundle_bytes", String(r.lambda.bundle_bytes)],
    [`burst.seconds (${r.burst.events} events)`, cell(r.burst.seconds)],
    ["burst.jobs", cell(r.burst.jobs)],
    ["burst.lost", cell(r.burst.lost)],
    ["burst.duplicates", cell(r.burst.duplicates)],
    ...attackRows(r.attack),
    ...controllerRows(r.controller),
  );
  const cpu = (name: string, perJob: Readonly<Record<string, number>>) =>
    `${name}.cpu_ms_per_job`.padEnd(28) +
    Object.entries(perJob)
      .filter(([, ms]) => ms > 0)
      .map(([process, ms]) => `${process} ${number(ms)}`)
      .join(", ");
  const width = Math.max(
    ...rows.map(([key]) => key.length),
    ...targets(r).map((t) => t.key.length),
  );
  const lines = [
    `${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}, ${r.date}`,
    "figure: median (min-max) over runs; ratios are adapter / direct, measured in the same round",
    "",
    ...rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`),
    "",
    "CPU milliseconds per Job by process, saturated runs (medians):",
    cpu("direct", r.direct.cpu_ms_per_job),
    ...paths.map(([name, a]) => cpu(name, a.cpu_ms_per_job)),
    "",
    e2eTable(r.e2e),
    poolsTable(r.pools),
    "targets:",
    ...targets(r).map(
      (t) =>
        `${t.met ? "  met   " : "  MISSED"} ${t.key.padEnd(width)}  ${number(t.value)} ${t.limit}`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}
