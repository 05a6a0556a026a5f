import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { attackTargets } from "./attack-stats.js";
import { runController } from "./controller.js";
import { controllerTable, controllerTargets } from "./controller-stats.js";
import { benchmarksPage, latestSources } from "./docs-page.js";
import { runE2e } from "./e2e.js";
import { e2eTargets } from "./e2e-stats.js";
import { runPools } from "./pools.js";
import { attackTable, e2eTable, poolsTable, table, targets } from "./report.js";
import {
  ADAPTERS,
  FULL,
  type PathName,
  runAttackOnly,
  runBench,
  runBurstOnly,
  runPathsOnly,
  SMOKE,
} from "./run.js";

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "..", "results");

const { values } = parseArgs({
  options: {
    save: { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    out: { type: "string" },
    "burst-only": { type: "string" },
    paths: { type: "string" },
    "e2e-only": { type: "boolean", default: false },
    "attack-only": { type: "boolean", default: false },
    "controller-only": { type: "boolean", default: false },
    "pools-only": { type: "boolean", default: false },
    docs: { type: "boolean", default: false },
  },
});

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
if (values.docs) {
  // docs/benchmarks.md from the latest saved full run and pools run; measures nothing.
  const names = latestSources(await readdir(RESULTS));
  const read = async (name: string) => JSON.parse(await readFile(join(RESULTS, name), "utf8"));
  const page = benchmarksPage({
    full: await read(names.full),
    fullFile: `bench/results/${names.full}`,
    pools: await read(names.pools),
    poolsFile: `bench/results/${names.pools}`,
  });
  const docs = join(RESULTS, "..", "..", "docs", "benchmarks.md");
  await writeFile(docs, page);
  log(`wrote ${docs} from ${names.full} and ${names.pools}`);
  process.exit(0);
}
if (values["burst-only"]) {
  // Development aid: only the burst, with this many events, printed as JSON.
  const scale = { ...FULL, burstEvents: Number(values["burst-only"]), burstRuns: 1 };
  process.stdout.write(`${JSON.stringify(await runBurstOnly(scale, log))}\n`);
  process.exit(0);
}
if (values.paths) {
  // Development aid: direct and these paths only (e.g. --paths http), printed as JSON.
  const names = values.paths.split(",") as PathName[];
  const unknown = names.filter((name) => !ADAPTERS.includes(name));
  if (unknown.length > 0)
    throw new Error(`--paths: unknown ${unknown.join(", ")}; use ${ADAPTERS.join(", ")}`);
  const scale = values.smoke ? SMOKE : FULL;
  process.stdout.write(`${JSON.stringify(await runPathsOnly(scale, names, log), null, 2)}\n`);
  process.exit(0);
}
if (values["e2e-only"]) {
  // Development aid: only the e2e section, its table on stderr and its JSON on stdout (and
  // in --out when given).
  const e2e = await runE2e(values.smoke ? SMOKE : FULL, log);
  const json = `${JSON.stringify({ e2e, targets: e2eTargets(e2e) }, null, 2)}\n`;
  if (values.out) {
    await mkdir(dirname(values.out), { recursive: true });
    await writeFile(values.out, json);
  }
  process.stderr.write(e2eTable(e2e));
  process.stdout.write(json);
  process.exit(0);
}
if (values["attack-only"]) {
  // Development aid: only the attack section, its table on stderr and its JSON on stdout
  // (and in --out when given).
  const attack = await runAttackOnly(values.smoke ? SMOKE : FULL, log);
  const json = `${JSON.stringify({ attack, targets: attackTargets(attack) }, null, 2)}\n`;
  if (values.out) {
    await mkdir(dirname(values.out), { recursive: true });
    await writeFile(values.out, json);
  }
  process.stderr.write(attackTable(attack));
  process.stdout.write(json);
  process.exit(0);
}
if (values["pools-only"]) {
  // Development aid: only the pools section, its table on stderr and its JSON on stdout.
  const pools = await runPools(values.smoke ? SMOKE : FULL, log);
  process.stderr.write(poolsTable(pools));
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), pools }, null, 2)}\n`);
  process.exit(0);
}
if (values["controller-only"]) {
  // Only the controller section, its table on stderr and its JSON on stdout (and in --out
  // when given; with --save, also results/<UTC date>T<HHMM>-controller.json).
  const date = new Date().toISOString();
  const controller = await runController(values.smoke ? SMOKE : FULL, log);
  const json = `${JSON.stringify({ date, controller, targets: controllerTargets(controller) }, null, 2)}\n`;
  if (values.out) {
    await mkdir(dirname(values.out), { recursive: true });
    await writeFile(values.out, json);
  }
  if (values.save) {
    const stamp = `${date.slice(0, 13)}${date.slice(14, 16)}`;
    await writeFile(join(RESULTS, `${stamp}-controller.json`), json);
  }
  process.stderr.write(controllerTable(controller));
  process.stdout.write(json);
  process.exit(0);
}
const results = await runBench(values.smoke ? SMOKE : FULL, log);
const json = `${JSON.stringify({ ...results, targets: targets(results) }, null, 2)}\n`;
const out = values.out ?? join(RESULTS, "latest.json");
await mkdir(dirname(out), { recursive: true });
await writeFile(out, json);
// A dated copy per run: 2026-11-28T0759.json (UTC), so two runs a day both stay.
const stamp = `${results.date.slice(0, 13)}${results.date.slice(14, 16)}`;
if (values.save) await writeFile(join(RESULTS, `${stamp}.json`), json);
process.stdout.write(table(results));
log(`wrote ${out}${values.save ? " and a dated copy" : ""}`);
