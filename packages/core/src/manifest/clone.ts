/**
 * Sets `key` on `target` as a plain data property. Unlike assignment, a `"__proto__"`
 * key (which JSON and YAML can carry) stays an ordinary key and never changes a prototype.
 */
export function defineOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * Deep copy of JSON-like data (what pod definitions are), so a manifest never shares
 * objects with the definition it came from and editing one cannot change the other.
 */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => cloneJson(item)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) defineOwn(out, key, cloneJson(item));
    return out as T;
  }
  return value;
}

/** Copies `source`'s own keys onto `target` as data properties (`__proto__` included, harmlessly). */
export function assignOwn<T extends object>(target: T, source: Record<string, unknown>): T {
  for (const [key, value] of Object.entries(source)) defineOwn(target, key, value);
  return target;
}
