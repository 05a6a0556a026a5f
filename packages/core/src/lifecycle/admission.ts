/**
 * Which suspended Jobs to resume, within the caps on Jobs in flight: the highest priority
 * first, then the oldest. Pure and separate from the pass so its guarantees (caps kept,
 * order kept, no slot left idle) can be checked on their own.
 *
 * @module
 */

/** A suspended Job that may be resumed. */
export interface AdmissionCandidate {
  readonly queue: string;
  /** Higher goes first (Buildkite's own dispatch order). */
  readonly priority: number;
  /** Milliseconds since the epoch: among equal priorities the oldest goes first. */
  readonly createdAt: number;
  /** Name and namespace break the last ties, so the order never depends on listing order. */
  readonly name: string;
  readonly namespace: string;
}

export interface AdmissionInput<T extends AdmissionCandidate> {
  /** Candidates of queues that may run more: a paused queue's Jobs are left out by the caller. */
  readonly waiting: readonly T[];
  /** Jobs running now, per queue; queues not here run none. */
  readonly running: ReadonlyMap<string, number>;
  /** Most Jobs running at once in one queue; unset: no cap. */
  readonly maxInFlight?: number | undefined;
  /** Most Jobs running at once over every queue; unset: no cap. */
  readonly maxInFlightTotal?: number | undefined;
}

/** Priority descending, then creation ascending, then name and namespace. */
export function admissionOrder(a: AdmissionCandidate, b: AdmissionCandidate): number {
  return (
    b.priority - a.priority ||
    a.createdAt - b.createdAt ||
    compareText(a.name, b.name) ||
    compareText(a.namespace, b.namespace)
  );
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The candidates to resume, in {@link admissionOrder}: greedily, each while its queue is
 * under `maxInFlight` and all queues together are under `maxInFlightTotal`. A queue at
 * its cap is skipped, not a stop: the next candidate of another queue may still fit. With
 * no cap set, every candidate is resumed. A queue already over a cap (a cap lowered)
 * resumes nothing until it is back under.
 *
 * @example
 * ```ts
 * admit({ waiting, running: new Map([["default", 3]]), maxInFlight: 4 });
 * // the one candidate of "default" that ranks first
 * ```
 */
export function admit<T extends AdmissionCandidate>(input: AdmissionInput<T>): T[] {
  const { maxInFlight, maxInFlightTotal } = input;
  const perQueue = new Map(input.running);
  let total = 0;
  for (const count of perQueue.values()) total += count;

  const resumed: T[] = [];
  for (const candidate of [...input.waiting].sort(admissionOrder)) {
    if (maxInFlightTotal !== undefined && total >= maxInFlightTotal) break;
    const inQueue = perQueue.get(candidate.queue) ?? 0;
    if (maxInFlight !== undefined && inQueue >= maxInFlight) continue;
    resumed.push(candidate);
    perQueue.set(candidate.queue, inQueue + 1);
    total += 1;
  }
  return resumed;
}
