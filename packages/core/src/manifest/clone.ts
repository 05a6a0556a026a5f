/**
 * Sets `key` on `target` as a plain data property. Unlike assignment, a `"__proto__"`
 * key (which JSON and YAML can carry) stays an ordinary key and never changes a prototype.
 * Every other key is assigned: on the plain objects built here that makes the same data
 * property, and keeps V8's fast object layout, where defineProperty for every key made
 * manifest building several times slower (measured by `npm run bench`).
 */
export function defineOwn(target: object, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    (target as Record<string, unknown>)[key] = value;
  }
}

/**
 * Deep copy of JSON-like data (what pod definitions are), so a manifest never shares
 * objects with the definition it came from and editing one cannot change the other.
 */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneJson(value[i]);
    return out as T;
  }
  if (value !== null && typeof value === "object") {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(source)) defineOwn(out, key, cloneJson(source[key]));
    return out as T;
  }
  return value;
}

/** Copies `source`'s own keys onto `target` as data properties (`__proto__` included, harmlessly). */
export function assignOwn<T extends object>(target: T, source: Record<string, unknown>): T {
  for (const [key, value] of Object.entries(source)) defineOwn(target, key, value);
  return target;
}
