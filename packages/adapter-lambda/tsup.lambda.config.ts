import { cp, rm } from "node:fs/promises";
import { defineConfig } from "tsup";

export default defineConfig({
  // The function as deployed: one ESM file with every dependency inside (the AWS SDK
  // too, so the function does not depend on the runtime's copy), plus the bundled pod
  // library. tests/bundle.test.ts holds it to its size budget.
  entry: { index: "src/lambda-entry.ts" },
  outDir: "dist/lambda",
  outExtension: () => ({ js: ".mjs" }),
  format: ["esm"],
  platform: "node",
  target: "node20",
  noExternal: [/.*/],
  splitting: false,
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
