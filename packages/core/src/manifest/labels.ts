/**
 * Kubernetes label rules, and how untrusted strings are made to fit them.
 */
import { DNS_SUBDOMAIN } from "../names.js";

/** A label value: empty, or at most 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Is `value` a valid label value? */
export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/** Is `key` a valid label (or annotation) key: `[prefix/]name`? */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (name.length > 63 || !LABEL_NAME.test(name)) return false;
  if (slash === -1) return true;
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix);
}

/** 32-bit FNV-1a over UTF-16 code units, as 8 hex digits: short, stable, dependency-free. */
export function fnv1a32(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

function trimToAlphanumeric(value: string): string {
  return value.replace(/^[^A-Za-z0-9]+/, "").replace(/[^A-Za-z0-9]+$/, "");
}

/**
 * Makes any string a valid label value. A valid value is kept as is; any other is
 * reduced to its allowed characters and suffixed with a hash of the original, so two
 * different inputs stay different labels. The full original belongs in an annotation.
 *
 * @example
 * ```ts
 * toLabelValue("my-pipeline");    // "my-pipeline"
 * toLabelValue("feature/ünïcode"); // "feature-n-code-<8 hex digits>"
 * ```
 */
export function toLabelValue(value: string): string {
  if (isLabelValue(value)) return value;
  const hash = fnv1a32(value);
  const cleaned = trimToAlphanumeric(value.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 54));
  return cleaned ? `${cleaned}-${hash}` : hash;
}
