import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/bin.ts", "src/vitest-context.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/vitest-context.ts"] },
  clean: true,
  sourcemap: true,
  target: "node20",
});
