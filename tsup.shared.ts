import type { Options } from "tsup";

/**
 * How every published package builds: ESM and CommonJS with type declarations and
 * source maps, for Node 20. Packages add their entries and extras.
 */
export const libraryBuild = {
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  shims: true,
  target: "node20",
} satisfies Options;
