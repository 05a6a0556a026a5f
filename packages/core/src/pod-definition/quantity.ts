/**
 * Kubernetes resource quantities (`500m`, `2`, `1.5Gi`, `1e3`), read as plain numbers so
 * the Fargate check can add a pod's requests up.
 */

const SUFFIXES: Readonly<Record<string, number>> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A number, then a binary or decimal suffix or a decimal exponent (the API's grammar). */
const QUANTITY = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:([eE][-+]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/;

/**
 * The value of a quantity in its base unit (cores for `cpu`, bytes for `memory`), or
 * `undefined` when `value` is not one. Numbers, as YAML gives `cpu: 2`, count as written.
 *
 * @example
 * ```ts
 * parseQuantity("250m"); // 0.25
 * parseQuantity("2Gi");  // 2147483648
 * parseQuantity("lots"); // undefined
 * ```
 */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const match = QUANTITY.exec(value);
  if (!match) return undefined;
  const [, digits, exponent, suffix] = match;
  const scale = exponent ? 10 ** Number(exponent.slice(1)) : (SUFFIXES[suffix ?? ""] ?? 1);
  const result = Number(digits) * scale;
  return Number.isFinite(result) ? result : undefined;
}
