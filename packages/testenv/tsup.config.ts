import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/bin.ts", "src/vitest-context.ts", "src/contract.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/vitest-context.ts", "src/contract.ts"] },
  clean: true,
  sourcemap: true,
  target: "node20",
});
