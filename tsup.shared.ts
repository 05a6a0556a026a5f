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
  // Shared code in chunks for CommonJS too (ESM always splits): without it each CommonJS
  // entry carries its own copy of a shared class, and an error thrown from one subpath
  // fails `instanceof` against the class the main entry exports.
  splitting: true,
  shims: true,
  target: "node20",
} satisfies Options;
