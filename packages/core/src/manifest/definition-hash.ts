/**
 * A stable fingerprint of a pod definition, written on its Deployment so a changed
 * definition shows on the object. SHA-256 from @noble/hashes: audited, dependency-free,
 * synchronous (the builders are; Web Crypto's digest is not) and free of `node:` imports,
 * which the core does without.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { PodDefinition } from "../pod-definition/schema.js";

/** The SHA-256 of `text`'s UTF-8 bytes, in hex. */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** JSON with object keys sorted at every depth and `undefined` fields left out. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const fields = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${fields.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The first 16 hex digits of the SHA-256 of `definition` as parsed, in canonical JSON:
 * the same for the same definition whatever order its fields were written in.
 *
 * @example
 * ```ts
 * definitionHash(definition); // "3f5a0c1d2e4b6a79"
 * ```
 */
export function definitionHash(definition: PodDefinition): string {
  return sha256Hex(canonicalJson(definition)).slice(0, 16);
}
