import { cp, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { PluginBuild } from "esbuild";
import { defineConfig } from "tsup";

const OUT = "dist/lambda";
/** The modules Lambda loads by handler name: `index.eventBridge`, `index.sqs`, `controller.handler`. */
const ENTRIES = ["index.mjs", "controller.mjs"];

/**
 * Deletes the chunks nothing can load: esbuild emits a chunk for a dynamic import() in
 * code it then drops (the AWS SDK's browser user agent brings in bowser, 35 KB, that way),
 * and such a file would only be uploaded with every deployment. A chunk is kept when an
 * entry reaches it through static or dynamic imports.
 */
async function pruneUnreachableChunks(): Promise<string[]> {
  const reachable = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (reachable.has(file)) return;
    reachable.add(file);
    const text = await readFile(join(OUT, file), "utf8");
    for (const match of text.matchAll(/"\.\/([\w.-]+\.mjs)"/g)) await visit(match[1] as string);
  };
  for (const entry of ENTRIES) await visit(entry);
  const pruned = (await readdir(OUT)).filter((f) => f.endsWith(".mjs") && !reachable.has(f));
  await Promise.all(pruned.map((file) => rm(join(OUT, file))));
  return pruned;
}

/**
 * Declares prom-client free of side effects, so a module that imports it without using
 * it (the controller's metrics, which its package index re-exports) does not bring it
 * into the function: the function exports no metrics. Code that uses it keeps it.
 */
const promClientUnusedIsDropped = {
  name: "prom-client-side-effect-free",
  setup(build: PluginBuild) {
    build.onResolve({ filter: /^prom-client$/ }, async (args) => {
      // The resolution below comes back here: let esbuild resolve that one itself.
      if (args.pluginData?.skip) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: { skip: true },
      });
      return { ...resolved, sideEffects: false };
    });
  },
};

export default defineConfig({
  // The function as deployed: ES modules with every dependency inside (the AWS SDK
  // too, so the function does not depend on the runtime's copy), plus the bundled pod
  // library. Split into chunks, so a cold start loads only what the configuration uses:
  // client-node (for a kubeconfig) and the S3 client (for a library in S3) are chunks of
  // their own, imported only then. Split, an EKS function's init imports ~0.9 MB instead
  // of 2.2 MB, and took ~190 ms against ~300 ms (bench/README.md). tests/bundle.test.ts
  // holds the whole to its size budget. The scheduled controller is an entry of its own,
  // so the event handlers' init never builds it, and its init never builds theirs.
  entry: { index: "src/lambda-entry.ts", controller: "src/controller-entry.ts" },
  outDir: OUT,
  outExtension: () => ({ js: ".mjs" }),
  format: ["esm"],
  platform: "node",
  target: "node20",
  noExternal: [/.*/],
  esbuildPlugins: [promClientUnusedIsDropped],
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
