/**
 * How a setting's text (a flag, an environment variable, a config-file value) becomes
 * its value. A parser never throws: it returns the value, or what was expected.
 */

/** The value, or a description of what was expected instead. */
export type Parsed<T> = { readonly value: T } | { readonly expected: string };

/** Turns a setting's text into its value. */
export type Parser<T> = (raw: string) => Parsed<T>;

/** Any text, trimmed; empty text is "unset" and never reaches a parser. */
export const text: Parser<string> = (raw) => ({ value: raw.trim() });

/** A comma-separated list, items trimmed, empty items dropped. */
export const list: Parser<string[]> = (raw) => ({
  value: raw
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean),
});

/** `true`/`false` (also `1`/`0`, `yes`/`no`), as a switch's environment variable holds. */
export const boolean: Parser<boolean> = (raw) => {
  const value = raw.trim().toLowerCase();
  if (["true", "1", "yes"].includes(value)) return { value: true };
  if (["false", "0", "no"].includes(value)) return { value: false };
  return { expected: "true or false" };
};

/** A whole number from `min` to `max`; `unit` is said in the error ("seconds"). */
export function wholeNumber(min: number, max: number, unit?: string): Parser<number> {
  const what = `a whole number${unit ? ` of ${unit}` : ""} from ${min} to ${max}`;
  return (raw) => {
    const trimmed = raw.trim();
    const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    return value >= min && value <= max ? { value } : { expected: what };
  };
}

/** A number of seconds from `min` to `max`, fractions allowed; the value is milliseconds. */
export function secondsAsMs(min: number, max: number): Parser<number> {
  return (raw) => {
    const trimmed = raw.trim();
    const seconds = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    return seconds >= min && seconds <= max
      ? { value: Math.round(seconds * 1000) }
      : { expected: `seconds from ${min} to ${max}` };
  };
}

/** One of `choices`, exactly. */
export function oneOf<const T extends string>(choices: readonly T[]): Parser<T> {
  return (raw) => {
    const value = raw.trim();
    return (choices as readonly string[]).includes(value)
      ? { value: value as T }
      : { expected: `one of ${choices.join(", ")}` };
  };
}

/** An `http://` or `https://` URL. */
export const httpUrl: Parser<string> = (raw) => {
  const value = raw.trim();
  return /^https?:\/\/\S+$/.test(value) ? { value } : { expected: "an http:// or https:// URL" };
};
