import { defineConfig } from "tsup";
import { libraryBuild } from "../../tsup.shared.js";

export default defineConfig({
  ...libraryBuild,
  entry: [
    "src/index.ts",
    "src/events/index.ts",
    "src/manifest/index.ts",
    "src/pod-definition/index.ts",
    "src/config/index.ts",
    // fast-check arbitraries; fast-check is an optional peer, never bundled.
    "src/testing/index.ts",
  ],
  shims: false,
});
