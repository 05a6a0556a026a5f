import { defineConfig } from "tsup";

export default defineConfig({
  // index: the embeddable run(); bin: the ondemand-eks executable (shebang kept by tsup).
  entry: ["src/index.ts", "src/bin.ts"],
  format: ["esm", "cjs"],
  dts: { entry: "src/index.ts" },
  clean: true,
  sourcemap: true,
  target: "node20",
});
