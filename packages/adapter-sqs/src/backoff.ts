/** How long the consumer waits between receives that fail, growing over a failure streak. */
export interface BackoffOptions {
  /** The ceiling of the first wait, ms. Default 1,000. */
  readonly initialMs?: number;
  /** The largest ceiling, ms. Default 30,000. */
  readonly maxMs?: number;
  /** The jitter's source, in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

const DEFAULT_INITIAL_MS = 1_000;
const DEFAULT_MAX_MS = 30_000;

/**
 * The wait after the `failures`th failure in a row (1 for the first): a ceiling that
 * doubles with each failure up to `maxMs`, of which half is always waited and the other
 * half is jitter ("equal jitter"), so consumers that lost SQS together do not retry
 * together, and no wait is shorter than half its ceiling. Pure: the caller resets
 * `failures` after a receive that works.
 *
 * @example
 * ```ts
 * receiveBackoffMs(1, { random: () => 0.5 }); // 750: half of 1,000 plus half of the other half
 * receiveBackoffMs(3, { random: () => 0.5 }); // 3,000
 * receiveBackoffMs(20, { random: () => 0 }); // 15,000: half of the 30,000 cap
 * ```
 */
export function receiveBackoffMs(failures: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? DEFAULT_INITIAL_MS;
  const max = options.maxMs ?? DEFAULT_MAX_MS;
  const random = options.random ?? Math.random;
  // 2 ** 31 and beyond is past any cap: stop doubling before the number overflows.
  const doublings = Math.min(Math.max(failures, 1) - 1, 30);
  const ceiling = Math.min(max, initial * 2 ** doublings);
  const jitter = Math.min(Math.max(random(), 0), 1);
  return ceiling / 2 + (jitter * ceiling) / 2;
}
