import { defineConfig } from "tsup";
import { libraryBuild } from "../../tsup.shared.js";

export default defineConfig({
  ...libraryBuild,
  // index: the embeddable run(), ESM and CommonJS; bin: the ondemand-eks executable (its
  // shebang kept by tsup), ESM only: bin/ondemand-eks.js, what npm links, imports it.
  entry: ["src/index.ts", "src/bin.ts"],
  dts: { entry: "src/index.ts" },
  shims: false,
  esbuildOptions(options, { format }) {
    if (format === "cjs" && Array.isArray(options.entryPoints)) {
      options.entryPoints = (options.entryPoints as string[]).filter(
        (entry) => !entry.endsWith("src/bin.ts"),
      );
    }
  },
});
