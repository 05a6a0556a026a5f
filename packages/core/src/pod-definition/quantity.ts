/**
 * Kubernetes resource quantities (`500m`, `2`, `1.5Gi`, `1e3`), read as plain numbers so
 * the Fargate check can add a pod's requests up.
 */

/** Decimal suffixes, as powers of ten: applied to the digits' text, so `700m` is `0.7` exactly. */
const DECIMAL: Readonly<Record<string, number>> = {
  "": 0,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

/** Binary suffixes, powers of two: exact in floating point. */
const BINARY: Readonly<Record<string, number>> = {
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
  const [, digits = "", exponent, suffix = ""] = match;
  // `Number("7e-1")` is the double nearest 0.7, as `Number("0.7")` is; multiplying 7 by
  // 1e-1 is not always the same double, and equal quantities would compare unequal.
  const binary = BINARY[suffix];
  const result =
    binary !== undefined
      ? Number(digits) * binary
      : Number(`${digits}e${exponent ? Number(exponent.slice(1)) : (DECIMAL[suffix] ?? 0)}`);
  return Number.isFinite(result) ? result : undefined;
}
