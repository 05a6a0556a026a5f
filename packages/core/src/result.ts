/** The outcome of a `safeParse`-style call: the value, or the error it would have thrown. */
export type Result<T, E extends Error = Error> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly error: E };

/**
 * Runs `fn` and captures an error of class `E` as a failed result; anything else is rethrown,
 * because an unexpected error is a bug, not a result.
 */
export function capture<T, E extends Error>(
  fn: () => T,
  errorClass: abstract new (...args: never[]) => E,
): Result<T, E> {
  try {
    return { success: true, data: fn() };
  } catch (error) {
    if (error instanceof errorClass) return { success: false, error };
    throw error;
  }
}
