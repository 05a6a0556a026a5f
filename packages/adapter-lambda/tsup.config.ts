import { defineConfig } from "tsup";
import { libraryBuild } from "../../tsup.shared.js";

// The library; the deployable function is built after it, by tsup.lambda.config.ts (one
// build at a time: this one's clean would empty dist/lambda under the other).
export default defineConfig({ ...libraryBuild, entry: ["src/index.ts", "src/runtime/index.ts"] });
