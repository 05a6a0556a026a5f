import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { benchmarksPage, latestSources } from "../src/docs-page.js";

// docs/benchmarks.md says only what saved runs measured: made again from the files it
// names, it is the same page, and those are the latest saved runs of their kinds.
const REPO = new URL("../../", import.meta.url).pathname;
const PAGE = readFileSync(join(REPO, "docs", "benchmarks.md"), "utf8");
const named = (pattern: RegExp) => pattern.exec(PAGE)?.[1] ?? "";
const fullFile = named(/From `(bench\/results\/[^`]+\.json)`/);
const poolsFile = named(/and `(bench\/results\/[^`]+-pools\.json)`/);
const read = (file: string) => JSON.parse(readFileSync(join(REPO, file), "utf8"));

describe("docs/benchmarks.md", () => {
  it("is what `npm run bench -- --docs` makes from the files it names", () => {
    const made = benchmarksPage({
      full: read(fullFile),
      fullFile,
      pools: read(poolsFile),
      poolsFile,
    });
    expect(PAGE).toBe(made);
  });

  it("names the latest saved full run and pools run (rerun `npm run bench -- --docs` after saving one)", () => {
    const latest = latestSources(readdirSync(join(REPO, "bench", "results")));
    expect([fullFile, poolsFile]).toEqual([
      `bench/results/${latest.full}`,
      `bench/results/${latest.pools}`,
    ]);
  });

  it("would see a figure changed by hand (the check is live)", () => {
    const full = read(fullFile);
    full.lambda.cold_init_ms.median += 100;
    expect(benchmarksPage({ full, fullFile, pools: read(poolsFile), poolsFile })).not.toBe(PAGE);
  });
});
