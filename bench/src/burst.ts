import { randomUUID } from "node:crypto";
import type { BenchJobs } from "./cluster.js";
import { type Servers, sendAll, startConsumer } from "./paths.js";

export interface BurstResult {
  readonly seconds: number;
  readonly jobs: number;
  readonly lost: number;
  readonly duplicates: number;
}

/**
 * `count` events arrive at once at a running `ondemand-eks consume sqs`: seconds from
 * the first send to the last Job, then the Jobs counted on the API server (lost: events
 * without a Job; duplicates: Jobs beyond one per event). Gives up after `timeoutMs`,
 * counting what is missing as lost.
 */
export async function burst(
  servers: Servers,
  jobs: BenchJobs,
  count: number,
  concurrency: number,
  timeoutMs: number,
  log: (line: string) => void = () => {},
): Promise<BurstResult> {
  await jobs.clear();
  const { sqs, queueUrl, consumer, done } = await startConsumer(servers, concurrency);
  const uuids = Array.from({ length: count }, () => randomUUID());
  const wanted = new Set<string>(uuids);
  try {
    const started = performance.now();
    await sendAll(sqs, queueUrl, uuids);
    const deadline = started + timeoutMs;
    while (done.size < count && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (done.size < count)
      log(`burst: ${count - done.size} events without a Job after ${timeoutMs} ms`);
    const seconds = (performance.now() - started) / 1000;
    const stored = (await jobs.uuids()).filter((uuid) => wanted.has(uuid));
    const distinct = new Set(stored);
    return {
      seconds,
      jobs: stored.length,
      lost: count - distinct.size,
      duplicates: stored.length - distinct.size,
    };
  } finally {
    await consumer.stop();
    sqs.destroy();
    await jobs.clear();
  }
}
