import type { ScheduleOutcome } from "@ondemand-eks/core";

/** The parts of a Lambda SQS event the handler reads. */
export interface SqsEvent {
  Records: { messageId: string; body: string; attributes?: { ApproximateReceiveCount?: string } }[];
}

/** Lambda's partial batch response: only these messages return to the queue. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** An event the scheduler could not take; Lambda retries it or sends it to its destination. */
export class ScheduleFailedError extends Error {
  constructor(readonly outcome: ScheduleOutcome) {
    super(`${outcome.outcome}: ${"reason" in outcome ? outcome.reason : ""}`);
    this.name = outcome.outcome === "invalid" ? "InvalidEventError" : "ScheduleFailedError";
  }
}

export interface HandlerDependencies {
  /** The core's schedule() with its dependencies bound (created once, outside the handler). */
  schedule: (input: unknown) => Promise<ScheduleOutcome>;
  /** Most messages of one batch scheduled at once. Default 10. */
  concurrency?: number;
}

/**
 * Handler for an EventBridge rule that targets the function directly. created, exists
 * and ignored return normally. failed throws, so Lambda retries the event. invalid throws
 * too: nothing would ever succeed, so with the template's MaximumRetryAttempts 0 it goes
 * straight to the on-failure destination, logged, never dropped silently.
 */
export function eventBridgeHandler(dependencies: HandlerDependencies) {
  return async (event: unknown): Promise<ScheduleOutcome> => {
    const outcome = await dependencies.schedule(event);
    if (outcome.outcome === "failed" || outcome.outcome === "invalid") {
      throw new ScheduleFailedError(outcome);
    }
    return outcome;
  };
}

/**
 * Handler for an SQS event source (EventBridge -> SQS -> Lambda; the body is the whole
 * event or its detail). Each message is scheduled on its own; only failed and invalid
 * ones are reported in batchItemFailures, so the rest are deleted. A queue's redrive
 * policy moves invalid ones to its dead-letter queue (maxReceiveCount 1 in the template).
 */
export function sqsHandler(dependencies: HandlerDependencies) {
  const concurrency = Math.max(1, dependencies.concurrency ?? 10);
  return async (event: SqsEvent): Promise<SqsBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    const records = [...event.Records];
    const work = async () => {
      for (let record = records.shift(); record; record = records.shift()) {
        let input: unknown;
        try {
          input = JSON.parse(record.body);
        } catch {
          input = record.body; // the core reports it invalid, with the reason
        }
        const outcome = await dependencies.schedule(input);
        if (outcome.outcome === "failed" || outcome.outcome === "invalid") {
          failures.push({ itemIdentifier: record.messageId });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, work));
    return { batchItemFailures: failures };
  };
}
