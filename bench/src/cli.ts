import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { table, targets } from "./report.js";
import { FULL, runBench, SMOKE } from "./run.js";

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "..", "results");

const { values } = parseArgs({
  options: {
    save: { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    out: { type: "string" },
  },
});

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const results = await runBench(values.smoke ? SMOKE : FULL, log);
const json = `${JSON.stringify({ ...results, targets: targets(results) }, null, 2)}\n`;
const out = values.out ?? join(RESULTS, "latest.json");
await mkdir(dirname(out), { recursive: true });
await writeFile(out, json);
if (values.save) await writeFile(join(RESULTS, `${results.date.slice(0, 10)}.json`), json);
process.stdout.write(table(results));
log(`wrote ${out}${values.save ? " and a dated copy" : ""}`);
