import { stringify } from "yaml";

export type OutputFormat = "yaml" | "json";

/**
 * A manifest as YAML (the default, what kubectl users read) or as one JSON object.
 * Every string value is double-quoted: kubectl reads YAML 1.1 with Go's number syntax,
 * so unquoted strings such as `on`, `yes` or `0o17` (a branch, a step key) would come
 * back as booleans or numbers and the manifest would be refused.
 */
export function formatManifest(manifest: unknown, format: OutputFormat): string {
  if (format === "json") return `${JSON.stringify(manifest, null, 2)}\n`;
  return stringify(manifest, {
    lineWidth: 0,
    version: "1.1",
    defaultStringType: "QUOTE_DOUBLE",
    defaultKeyType: "PLAIN",
  });
}
