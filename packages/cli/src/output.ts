import { stringify } from "yaml";

export type OutputFormat = "yaml" | "json";

/**
 * A manifest as YAML (the default, what kubectl users read) or as one JSON object.
 * YAML is written as 1.1, the version kubectl reads, so strings such as `on`, `yes` or
 * `no` (a branch, a slug) are quoted instead of turning into booleans.
 */
export function formatManifest(manifest: unknown, format: OutputFormat): string {
  if (format === "json") return `${JSON.stringify(manifest, null, 2)}\n`;
  return stringify(manifest, { lineWidth: 0, version: "1.1" });
}
