/** How long to wait between attempts: capped exponential backoff with full jitter. */
export interface RetryPolicy {
  /** The cap of the first wait. */
  initialDelayMs: number;
  /** No computed wait exceeds this (a server's Retry-After may). */
  maxDelayMs: number;
  /** Growth of the cap per failed attempt. */
  multiplier: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  multiplier: 2,
};

/**
 * The wait before attempt `failures + 1`, after `failures` (>= 1) failed attempts: a
 * uniformly random time up to min(maxDelay, initialDelay * multiplier^(failures-1)), so
 * many clients retrying after one outage spread out. A Retry-After from the server is a
 * lower bound.
 */
export function backoffDelay(
  failures: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exponent = Math.max(0, failures - 1);
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
  const jittered = Math.floor(random() * cap);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date; undefined when unusable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date names its day and month; anything else (a negative number) is not one.
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
