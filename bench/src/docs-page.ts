import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PoolResults } from "./pools.js";
import { attackTable, e2eTable, poolsTable, type Target } from "./report.js";
import type { BenchResults } from "./run.js";
import type { Figure } from "./stats.js";

/**
 * docs/benchmarks.md, made from saved results only: the figures a reader asks about
 * first, as markdown, then the bench's own plain-text tables of the same files. The
 * page names its files, and a test makes it again from them, so the page never says
 * what no saved run measured.
 *
 * @module
 */

/** The saved runs a page is made from, by their paths under the repository. */
export interface PageSources {
  readonly full: BenchResults & { readonly targets: readonly Target[] };
  readonly fullFile: string;
  readonly pools: { readonly pools: PoolResults };
  readonly poolsFile: string;
}

const round = (value: number, digits: number) => {
  const factor = 10 ** digits;
  return String(Math.round(value * factor) / factor);
};
const ms = (f: Figure) => `${round(f.median, 1)} ms`;
const ratio = (f: Figure) => round(f.median, 2);
const perSec = (f: Figure) => `${Math.round(f.median).toLocaleString("en-US")}/s`;

const REPO = join(fileURLToPath(import.meta.url), "..", "..", "..");

/**
 * The page as the repository keeps it: formatted by the repository's own Biome, which
 * aligns markdown tables, so `npm run bench -- --docs` and `biome check` agree.
 */
export function benchmarksPage(s: PageSources): string {
  return execFileSync(
    join(REPO, "node_modules", ".bin", "biome"),
    ["format", "--stdin-file-path=docs/benchmarks.md"],
    {
      cwd: REPO,
      input: unformattedPage(s),
      encoding: "utf8",
      timeout: 30_000,
    },
  );
}

/** The page, whole, before formatting. */
function unformattedPage(s: PageSources): string {
  const r = s.full;
  const p = s.pools.pools;
  const rows = [
    [
      "bare client (the limit)",
      ms(r.direct.p50_ms),
      ms(r.direct.p99_ms),
      perSec(r.direct.throughput_per_sec),
      "",
      "",
    ],
    ...(
      [
        ["webhook (`serve http`)", r.http],
        ["SQS consumer (on moto)", r.sqs],
        ["Lambda handler", r.lambda],
      ] as const
    ).map(([name, a]) => [
      name,
      ms(a.p50_ms),
      ms(a.p99_ms),
      perSec(a.throughput_per_sec),
      `${ratio(a.overhead_p50)}, ${ratio(a.overhead_p99)}`,
      ratio(a.throughput_ratio),
    ]),
  ];
  const missed = r.targets.filter((t) => !t.met);
  const lines = [
    "# Benchmark figures",
    "",
    "<!-- Made by `npm run bench -- --docs` from the files named below; a test in",
    "bench/tests/docs-page.test.ts makes it again and fails when the two differ. -->",
    "",
    `From \`${s.fullFile}\` (${r.machine.cores} cores, ${r.machine.cpu}, Node ${r.machine.node},`,
    `${r.date.slice(0, 10)}) and \`${s.poolsFile}\`. Every figure is the median over the`,
    "run's rounds. Ratios compare a path with the bare client measured in the same round on",
    "the same local API server, so they hold across machines better than the milliseconds",
    "do. How each is measured, the targets and what changed them:",
    "[`bench/README.md`](../bench/README.md).",
    "",
    "## From a scheduled job to a stored Job",
    "",
    "| path | p50 | p99 | throughput | p50, p99 against the bare client | throughput against it |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((cells) => `| ${cells.join(" | ")} |`),
    "",
    `- Beyond the transport's own floor (the same HTTP exchange or SQS round trip doing`,
    `  nothing): webhook ${ratio(r.http.beyond_floor_p50 as Figure)}, SQS ${ratio(r.sqs.beyond_floor_p50 as Figure)} (p50).`,
    `- A burst of ${r.burst.events.toLocaleString("en-US")} events through the SQS consumer: ${round(r.burst.seconds.median, 0)} s, ${r.burst.lost.median} lost, ${r.burst.duplicates.median} doubled.`,
    `- Lambda: cold init ${ms(r.lambda.cold_init_ms)}, bundle ${round(r.lambda.bundle_bytes / 1e6, 2)} MB.`,
    `- Resident memory under load: webhook ${round(r.http.rss_mb.median, 0)} MB, SQS consumer ${round(r.sqs.rss_mb.median, 0)} MB.`,
    `- Rendering a Job: ${perSec(r.render.per_sec)}; loading ${r.library.definitions.toLocaleString("en-US")} pod definitions: ${ms(r.library.load_1000_ms)}.`,
    "",
    "## From the event to the agent's acquire, end to end",
    "",
    `The real \`buildkite-agent\` in a pod on the local cluster, one job at a time; the`,
    "poller models a design that polls Buildkite every second.",
    "",
    "| path | event to acquire, p50 | sooner than the poller |",
    "| --- | --- | --- |",
    ...(["webhook", "sqs", "lambda"] as const).map(
      (path) =>
        `| ${path} | ${ms(r.e2e.paths[path].event_to_acquire.p50_ms)} | ${round(r.e2e.lead_over_poller[path].median, 1)}x |`,
    ),
    `| poller | ${ms(r.e2e.paths.poller.event_to_acquire.p50_ms)} | |`,
    "",
    "## Long-polling pools against one-shot Jobs",
    "",
    "| mode | accept p50 | accept p99 | burst |",
    "| --- | --- | --- | --- |",
    ...(["pool", "one_shot"] as const).map(
      (mode) =>
        `| ${mode.replace("_", "-")} | ${ms(p[mode].accept_p50_ms)} | ${ms(p[mode].accept_p99_ms)} | ${round(p[mode].burst_jobs_per_sec.median, 1)} jobs/s |`,
    ),
    "",
    "Pods start here as local processes, so a pool's head start over a fresh pod is smaller",
    "than on a real node, where a one-shot pod also waits for its image and its node.",
    "",
    "## Targets",
    "",
    `${r.targets.length - missed.length} of ${r.targets.length} met in this run.`,
    ...(missed.length > 0
      ? [
          "Missed, with the causes in [`bench/README.md`](../bench/README.md#targets-and-the-gap-on-this-machine):",
          "",
          ...missed.map((t) => `- \`${t.key}\`: ${round(t.value, 3)}, target ${t.limit}`),
        ]
      : []),
    "",
    "## More figures",
    "",
    `The end-to-end splits and the webhook under attack, as the bench prints them; the rest`,
    `of \`${s.fullFile}\` as \`npm run bench\` prints it is in that file.`,
    "",
    "```text",
    e2eTable(r.e2e).trimEnd(),
    "```",
    "",
    "```text",
    `${attackTable(r.attack).trimEnd()}`,
    "```",
    "",
    "```text",
    `${poolsTable(p).trimEnd()}`,
    "```",
    "",
  ];
  return lines.join("\n");
}

/** The latest saved full run and pools run, by their file names' stamps. */
export function latestSources(files: readonly string[]): { full: string; pools: string } {
  const sorted = [...files].sort();
  const full = sorted.filter((name) => /^\d{4}-\d\d-\d\dT\d{4}\.json$/.test(name)).at(-1);
  const pools = sorted.filter((name) => /^\d{4}-\d\d-\d\dT\d{4}-pools\.json$/.test(name)).at(-1);
  if (!full || !pools) throw new Error("bench/results: no saved full run or pools run");
  return { full, pools };
}
