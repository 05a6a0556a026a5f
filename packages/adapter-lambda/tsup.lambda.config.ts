import { cp, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { defineConfig } from "tsup";

const OUT = "dist/lambda";

/**
 * Deletes the chunks nothing can load: esbuild emits a chunk for a dynamic import() in
 * code it then drops (the AWS SDK's browser user agent brings in bowser, 35 KB, that way),
 * and such a file would only be uploaded with every deployment. A chunk is kept when
 * index.mjs reaches it through static or dynamic imports.
 */
async function pruneUnreachableChunks(): Promise<string[]> {
  const reachable = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (reachable.has(file)) return;
    reachable.add(file);
    const text = await readFile(join(OUT, file), "utf8");
    for (const match of text.matchAll(/"\.\/([\w.-]+\.mjs)"/g)) await visit(match[1] as string);
  };
  await visit("index.mjs");
  const pruned = (await readdir(OUT)).filter((f) => f.endsWith(".mjs") && !reachable.has(f));
  await Promise.all(pruned.map((file) => rm(join(OUT, file))));
  return pruned;
}

export default defineConfig({
  // The function as deployed: ES modules with every dependency inside (the AWS SDK
  // too, so the function does not depend on the runtime's copy), plus the bundled pod
  // library. Split into chunks, so a cold start loads only what the configuration uses:
  // client-node (for a kubeconfig) and the S3 client (for a library in S3) are chunks of
  // their own, imported only then. Split, an EKS function's init imports ~0.9 MB instead
  // of 2.2 MB, and took ~190 ms against ~300 ms (bench/README.md). tests/bundle.test.ts
  // holds the whole to its size budget.
  entry: { index: "src/lambda-entry.ts" },
  outDir: OUT,
  outExtension: () => ({ js: ".mjs" }),
  format: ["esm"],
  platform: "node",
  target: "node20",
  noExternal: [/.*/],
  splitting: true,
  minify: true,
  sourcemap: false,
  clean: true,
  // Bundled CommonJS dependencies call require() for Node's own modules.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
  async onSuccess() {
    await pruneUnreachableChunks();
    await rm(`${OUT}/pods`, { recursive: true, force: true });
    await cp("../../pods", `${OUT}/pods`, { recursive: true });
  },
});
