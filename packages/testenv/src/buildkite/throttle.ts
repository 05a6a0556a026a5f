/**
 * 429 answers for the Stacks API, so a test can see its client honour `Retry-After`:
 * a test hook that refuses the next N requests, and an optional fixed-window rate limit
 * per stack.
 */

/** At most `requests` Stacks API requests per stack in each window of `windowSeconds`. */
export interface StacksRateLimit {
  readonly requests: number;
  readonly windowSeconds: number;
}

export interface Throttle {
  /** Makes the next `count` Stacks API requests answer 429 with `Retry-After`. */
  refuseNext(count: number, retryAfterSeconds: number): void;
  /** The `Retry-After` seconds if this request is refused, else undefined. */
  check(stackKey: string): number | undefined;
}

/**
 * A throttle with an optional rate limit, on the clock `now` (milliseconds).
 *
 * @example
 * const throttle = createThrottle({ requests: 10, windowSeconds: 1 }, Date.now);
 * throttle.refuseNext(2, 3);
 * throttle.check("my-stack"); // 3
 */
export function createThrottle(limit: StacksRateLimit | undefined, now: () => number): Throttle {
  let refusals = 0;
  let refusalRetryAfter = 1;
  const windows = new Map<string, { start: number; count: number }>();

  return {
    refuseNext(count, retryAfterSeconds) {
      refusals = count;
      refusalRetryAfter = retryAfterSeconds;
    },
    check(stackKey) {
      if (refusals > 0) {
        refusals -= 1;
        return refusalRetryAfter;
      }
      if (!limit) return undefined;
      const windowMs = limit.windowSeconds * 1000;
      const time = now();
      let window = windows.get(stackKey);
      if (!window || time - window.start >= windowMs) {
        window = { start: time, count: 0 };
        windows.set(stackKey, window);
      }
      window.count += 1;
      if (window.count <= limit.requests) return undefined;
      return Math.max(1, Math.ceil((window.start + windowMs - time) / 1000));
    },
  };
}
