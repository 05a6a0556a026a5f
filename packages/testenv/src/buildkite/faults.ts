/**
 * Server trouble on demand for the Stacks API, so a test can see its client retry and
 * give up: the next N requests answer a 5xx (as a load balancer in front of Buildkite
 * would during a deploy), or answer only after a delay (so a client's timeout fires).
 * Like the throttle's 429s, these are counted per request, not per stack.
 */

/** What the next Stacks API request suffers, if anything. */
export type Fault =
  | { readonly kind: "fail"; readonly status: number }
  | { readonly kind: "stall"; readonly ms: number };

export interface Faults {
  /** Makes the next `count` Stacks API requests answer `status` (e.g. 502, 503). */
  failNext(count: number, status: number): void;
  /** Makes the next `count` Stacks API requests answer only after `ms` milliseconds. */
  stallNext(count: number, ms: number): void;
  /** The fault for this request, counted down; failures come before stalls. */
  next(): Fault | undefined;
}

/**
 * An empty set of faults; a test arms them.
 *
 * @example
 * const faults = createFaults();
 * faults.failNext(2, 503);
 * faults.next(); // { kind: "fail", status: 503 }
 */
export function createFaults(): Faults {
  let failures = { count: 0, status: 503 };
  let stalls = { count: 0, ms: 0 };
  return {
    failNext(count, status) {
      if (!Number.isInteger(status) || status < 500 || status > 599) {
        throw new Error(`failStacks takes a 5xx status, not ${status}`);
      }
      failures = { count: Math.max(0, count), status };
    },
    stallNext(count, ms) {
      stalls = { count: Math.max(0, count), ms: Math.max(0, ms) };
    },
    next() {
      if (failures.count > 0) {
        failures.count -= 1;
        return { kind: "fail", status: failures.status };
      }
      if (stalls.count > 0) {
        stalls.count -= 1;
        return { kind: "stall", ms: stalls.ms };
      }
      return undefined;
    },
  };
}
