import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  type RetryPolicy,
} from "@ondemand-eks/submitter";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const policy = fc.record<RetryPolicy>({
  initialDelayMs: fc.integer({ min: 1, max: 10_000 }),
  maxDelayMs: fc.integer({ min: 1, max: 60_000 }),
  multiplier: fc.double({ min: 1, max: 4, noNaN: true }),
});
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe("backoffDelay", () => {
  it("stays within [0, min(max, initial * multiplier^(n-1))]", () => {
    fc.assert(
      fc.property(policy, fc.integer({ min: 1, max: 200 }), unit, (p, failures, r) => {
        const delay = backoffDelay(failures, p, () => r);
        const cap = Math.min(p.maxDelayMs, p.initialDelayMs * p.multiplier ** (failures - 1));
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(cap);
        expect(delay).toBeLessThanOrEqual(p.maxDelayMs);
      }),
    );
  });

  it("never shrinks its cap as failures grow (same random draw)", () => {
    fc.assert(
      fc.property(policy, fc.integer({ min: 1, max: 100 }), unit, (p, failures, r) => {
        expect(backoffDelay(failures + 1, p, () => r)).toBeGreaterThanOrEqual(
          backoffDelay(failures, p, () => r),
        );
      }),
    );
  });

  it("waits at least a server's Retry-After, even beyond the cap", () => {
    fc.assert(
      fc.property(
        policy,
        fc.integer({ min: 1, max: 50 }),
        unit,
        fc.nat(600_000),
        (p, n, r, after) => {
          const delay = backoffDelay(n, p, () => r, after);
          expect(delay).toBeGreaterThanOrEqual(after);
          expect(delay).toBe(
            Math.max(
              after,
              backoffDelay(n, p, () => r),
            ),
          );
        },
      ),
    );
  });

  it("spreads waits out: the jitter uses the whole range", () => {
    expect(backoffDelay(4, DEFAULT_RETRY_POLICY, () => 0)).toBe(0);
    expect(backoffDelay(4, DEFAULT_RETRY_POLICY, () => 0.5)).toBe(400);
    expect(backoffDelay(40, DEFAULT_RETRY_POLICY, () => 0.999_999)).toBe(4_999);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-28T10:00:00Z");
  it("reads delay-seconds and HTTP dates", () => {
    expect(parseRetryAfter("3", now)).toBe(3_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Sat, 28 Nov 2026 10:00:05 GMT", now)).toBe(5_000);
    expect(parseRetryAfter("Sat, 28 Nov 2026 09:00:00 GMT", now)).toBe(0);
  });
  it("ignores what it cannot read", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-1", now)).toBeUndefined();
  });
});
