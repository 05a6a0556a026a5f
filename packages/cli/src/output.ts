import { stringify } from "yaml";

export type OutputFormat = "yaml" | "json";

/** A manifest as YAML (the default, what kubectl users read) or as one JSON object. */
export function formatManifest(manifest: unknown, format: OutputFormat): string {
  return format === "json"
    ? `${JSON.stringify(manifest, null, 2)}\n`
    : stringify(manifest, { lineWidth: 0 });
}
