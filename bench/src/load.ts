import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

/** Sends one event for a new job and resolves once its Job exists. */
export type Fire = (uuid: string) => Promise<void>;

/**
 * An open-loop load at a fixed arrival rate: event i is sent at i / rate seconds,
 * whether or not earlier ones are done, as events arrive from Buildkite. Returns each
 * event's latency in milliseconds, from its scheduled send time to its Job existing.
 */
export async function atRate(fire: Fire, rate: number, count: number): Promise<number[]> {
  const interval = 1000 / rate;
  const started = performance.now();
  const pending: Promise<number>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(fire(randomUUID()).then(() => performance.now() - due));
  }
  return Promise.all(pending);
}

/**
 * {@link atRate}, but a send that fails does not end the run: its latency is
 * `undefined`. For loads some of which the server may turn away (the attack section).
 */
export async function atRateSettled(
  fire: Fire,
  rate: number,
  count: number,
): Promise<(number | undefined)[]> {
  const interval = 1000 / rate;
  const started = performance.now();
  const pending: Promise<number | undefined>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      fire(randomUUID()).then(
        () => performance.now() - due,
        () => undefined,
      ),
    );
  }
  return Promise.all(pending);
}

/**
 * A closed-loop load: `concurrency` senders each send their next event as soon as the
 * previous one's Job exists. Returns Jobs per second over the whole run.
 */
export async function saturate(fire: Fire, concurrency: number, count: number): Promise<number> {
  let sent = 0;
  const started = performance.now();
  const sender = async () => {
    while (sent < count) {
      sent++;
      await fire(randomUUID());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  return count / ((performance.now() - started) / 1000);
}
