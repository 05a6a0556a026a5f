import { CliError } from "./errors.js";

/** A flag's whole number within bounds, or an error naming the flag and the bounds. */
export function wholeNumber(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new CliError(`${name}: expected a whole number from ${min} to ${max}, received "${raw}"`);
  }
  return value;
}
