import { cp, rm } from "node:fs/promises";
import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  shims: true,
  target: "node20",
  // The bundled library ships inside the package, copied from the repository's pods/.
  async onSuccess() {
    await rm("pods", { recursive: true, force: true });
    await cp("../../pods", "pods", { recursive: true });
  },
});
