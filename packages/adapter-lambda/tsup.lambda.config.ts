import { cp, rm } from "node:fs/promises";
import { defineConfig } from "tsup";

export default defineConfig({
  // The function as deployed: ES modules with every dependency inside (the AWS SDK
  // too, so the function does not depend on the runtime's copy), plus the bundled pod
  // library. Split into chunks, so a cold start loads only what the configuration uses:
  // client-node (for a kubeconfig) and the S3 client (for a library in S3) are chunks of
  // their own, imported only then. Split, an EKS function's init imports ~0.9 MB instead
  // of 2.2 MB, and took ~190 ms against ~300 ms (bench/README.md). tests/bundle.test.ts
  // holds the whole to its size budget.
  entry: { index: "src/lambda-entry.ts" },
  outDir: "dist/lambda",
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
    await rm("dist/lambda/pods", { recursive: true, force: true });
    await cp("../../pods", "dist/lambda/pods", { recursive: true });
  },
});
