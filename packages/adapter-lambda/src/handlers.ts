import {
  dispositionOf,
  type LogFields,
  type Logger,
  type ScheduleOutcome,
} from "@ondemand-eks/core";
import { ScheduleFailedError } from "./errors.js";

/** The parts of a Lambda SQS event the handler reads. */
export interface SqsEvent {
  Records: { messageId: string; body: string; attributes?: { ApproximateReceiveCount?: string } }[];
}

/** Lambda's partial batch response: only these messages return to the queue. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The part of Lambda's context object the handlers read. */
export interface LambdaContext {
  readonly awsRequestId?: string;
}

export interface HandlerDependencies {
  /**
   * The scheduling path (a runtime scheduler's `schedule`): it logs the outcome with
   * `context` (`awsRequestId`, `messageId`), records it, and never throws.
   */
  schedule: (input: unknown, context: LogFields) => Promise<ScheduleOutcome>;
  /** Most messages of one batch scheduled at once. Default 10. */
  concurrency?: number;
  /** Told about a message whose scheduling threw (the scheduler itself never does). */
  log?: Logger;
}

const requestOf = (context?: LambdaContext) =>
  context?.awsRequestId ? { awsRequestId: context.awsRequestId } : {};

/**
 * Handler for an EventBridge rule that targets the function directly. What is
 * acknowledged returns normally. Anything else throws, so Lambda retries the event (keep
 * the asynchronous MaximumRetryAttempts at 2, its default) and, after those retries, it
 * reaches the on-failure destination with its reason: never dropped.
 */
export function eventBridgeHandler(dependencies: HandlerDependencies) {
  return async (event: unknown, context?: LambdaContext): Promise<ScheduleOutcome> => {
    const outcome = await dependencies.schedule(event, requestOf(context));
    if (dispositionOf(outcome) !== "acknowledge") throw new ScheduleFailedError(outcome);
    return outcome;
  };
}

/**
 * Handler for an SQS event source (EventBridge -> SQS -> Lambda; the body is the whole
 * event or its detail). Each message is scheduled on its own; only those not
 * acknowledged are reported in batchItemFailures, so the rest are deleted. `retry` ones
 * need retries and `dead-letter` ones never succeed, and one redrive policy serves both:
 * give the queue a dead-letter queue with a maxReceiveCount of about 5, enough retries
 * to ride out an API server outage of a few minutes.
 */
export function sqsHandler(dependencies: HandlerDependencies) {
  const concurrency = Math.max(1, dependencies.concurrency ?? 10);
  return async (event: SqsEvent, context?: LambdaContext): Promise<SqsBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    const records = [...event.Records];
    const work = async () => {
      for (let record = records.shift(); record; record = records.shift()) {
        const fields = {
          ...requestOf(context),
          messageId: record.messageId,
          receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
        };
        let input: unknown;
        try {
          input = JSON.parse(record.body);
        } catch {
          input = record.body; // the core reports it invalid, with the reason
        }
        try {
          const outcome = await dependencies.schedule(input, fields);
          if (dispositionOf(outcome) !== "acknowledge") {
            failures.push({ itemIdentifier: record.messageId });
          }
        } catch (error) {
          // Only this message goes back; the rest of the batch keeps its outcomes. Said
          // here, so a message that ends in the dead-letter queue has a reason on record.
          failures.push({ itemIdentifier: record.messageId });
          try {
            dependencies.log?.error("schedule threw", {
              ...fields,
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            });
          } catch {
            // A broken logger must not fail the rest of the batch.
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, work));
    return { batchItemFailures: failures };
  };
}
