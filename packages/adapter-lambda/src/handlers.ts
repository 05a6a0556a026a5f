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
  /** Told about a message whose scheduling threw (schedule() itself never does). */
  log?: (entry: Record<string, unknown>) => void;
}

/**
 * Handler for an EventBridge rule that targets the function directly. created, exists
 * and ignored return normally. failed throws, so Lambda retries the event (keep the
 * asynchronous MaximumRetryAttempts at 2, its default). invalid throws too, logged with
 * its reason: after those retries it reaches the on-failure destination, never dropped.
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
 * ones are reported in batchItemFailures, so the rest are deleted. failed ones need
 * retries and invalid ones never succeed, and one redrive policy serves both: give the
 * queue a dead-letter queue with a maxReceiveCount of about 5, enough retries to ride
 * out an API server outage of a few minutes.
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
        try {
          const outcome = await dependencies.schedule(input);
          if (outcome.outcome === "failed" || outcome.outcome === "invalid") {
            failures.push({ itemIdentifier: record.messageId });
          }
        } catch (error) {
          // Only this message goes back; the rest of the batch keeps its outcomes. Said
          // here, so a message that ends in the dead-letter queue has a reason on record.
          failures.push({ itemIdentifier: record.messageId });
          try {
            dependencies.log?.({
              msg: "schedule threw",
              messageId: record.messageId,
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            });
          } catch {
            // A broken logger must not fail the batch.
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, work));
    return { batchItemFailures: failures };
  };
}
