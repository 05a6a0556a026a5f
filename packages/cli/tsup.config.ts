import { defineConfig } from "tsup";
import { libraryBuild } from "../../tsup.shared.js";

export default defineConfig({
  ...libraryBuild,
  // index: the embeddable run(); bin: the ondemand-eks executable (shebang kept by tsup).
  entry: ["src/index.ts", "src/bin.ts"],
  dts: { entry: "src/index.ts" },
  shims: false,
});
