import { defineConfig } from "tsup";
import { libraryBuild } from "../../tsup.shared.js";

// Metrics are a subpath of their own: prom-client stays out of anything (the Lambda
// bundle) that does not ask for it.
export default defineConfig({ ...libraryBuild, entry: ["src/index.ts", "src/metrics.ts"] });
