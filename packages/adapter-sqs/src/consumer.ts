import { setImmediate as nextTurn, setTimeout as sleepFor } from "node:timers/promises";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import {
  dispositionOf,
  type LogFields,
  type Logger,
  type ScheduleOutcome,
} from "@ondemand-eks/core";
import { type BackoffOptions, receiveBackoffMs } from "./backoff.js";
import { deadline } from "./deadline.js";
import type { SqsSender } from "./sqs-client.js";

export interface SqsConsumerOptions {
  /** An `SQSClient` (any v3 version), or anything with its `send`. */
  client: SqsSender;
  queueUrl: string;
  /**
   * The scheduling path (a runtime scheduler's `schedule`): it logs the outcome with
   * `context` (`messageId`, `receiveCount`), records metrics, and does not throw.
   */
  schedule: (input: unknown, context: LogFields) => Promise<ScheduleOutcome>;
  /** Messages scheduled at once. Default 10. */
  concurrency?: number;
  /** Long-poll wait, seconds (SQS allows 0..20). Default 20. */
  waitTimeSeconds?: number;
  /** Visibility a message gets, and is extended by while in progress, seconds. Default 60. */
  visibilityTimeoutSeconds?: number;
  /**
   * For the consumer's own problems (receive, delete, visibility); never given bodies.
   * Required, so that a consumer that cannot reach SQS always says so: pass the
   * scheduler's (`scheduler.log`), as `ondemand-eks consume sqs` does.
   */
  log: Logger;
  /** Waits between failed receives: doubling from 1 s up to 30 s, with jitter. */
  receiveBackoff?: BackoffOptions;
  /**
   * Waits `ms` or until `signal` aborts, whichever is first, and never rejects. Default
   * a timer; tests pass one that records the waits.
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** A timer that `stop()` cuts short: a consumer in a long backoff stops at once. */
const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  sleepFor(ms, undefined, { signal }).catch(() => {});

/** Deadline of each delete and visibility change (a receive waits its poll time plus this). */
const CALL_TIMEOUT_MS = 10_000;

/**
 * Long-polls one SQS queue and schedules each message's event. A message is deleted only
 * when its outcome's disposition is `acknowledge`: `retry` ones reappear after their
 * visibility timeout and are tried again; `dead-letter` ones are left for the queue's
 * redrive policy (its dead-letter queue), their reason in the scheduler's log line. While a message is in progress its visibility is
 * extended, so a slow API server never makes it reappear while we still work on it.
 */
export class SqsConsumer {
  readonly #options: Required<SqsConsumerOptions>;
  /** Messages being scheduled: at most `concurrency`. */
  readonly #inFlight = new Set<Promise<void>>();
  /** Acknowledged messages whose DeleteMessage is under way: a slot of their own. */
  readonly #deleting = new Set<Promise<void>>();
  readonly #heartbeats = new Set<NodeJS.Timeout>();
  #stopping = new AbortController();
  /** Receives that failed in a row: 0 while receiving works. */
  #receiveFailures = 0;
  #loop: Promise<void> | undefined;

  constructor(options: SqsConsumerOptions) {
    this.#options = {
      concurrency: 10,
      waitTimeSeconds: 20,
      visibilityTimeoutSeconds: 60,
      receiveBackoff: {},
      sleep: abortableSleep,
      ...options,
    };
  }

  /** Starts polling; resolves once the loop runs. */
  start(): void {
    this.#loop ??= this.#run().catch((error: Error) =>
      this.#warn("consumer loop stopped", { error: error.message }),
    );
  }

  /** Logging must never be what stops the consumer. */
  #warn(msg: string, fields: LogFields): void {
    try {
      this.#options.log.warn(msg, fields);
    } catch {
      // Nothing better to do with a broken logger.
    }
  }

  /**
   * False while receiving fails (bad credentials, a deleted queue, SQS unreachable), true
   * again after the next receive that works: what a readiness probe should report.
   */
  get receiving(): boolean {
    return this.#receiveFailures === 0;
  }

  /** Messages received and not finished with: being scheduled, or being deleted. */
  get inFlight(): number {
    return this.#inFlight.size + this.#deleting.size;
  }

  /**
   * Stops receiving and waits for messages in flight to finish (up to `graceMs`).
   * Unfinished ones are not deleted: they reappear for the next consumer.
   */
  async stop(graceMs = 25_000): Promise<void> {
    this.#stopping.abort();
    await Promise.race([
      (async () => {
        await this.#loop?.catch(() => {});
        await Promise.allSettled([...this.#inFlight]);
        await Promise.allSettled([...this.#deleting]);
      })(),
      new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
    ]);
    // Past the grace period: stop extending what is unfinished, so it reappears soon
    // for another consumer (as it would had this process died).
    for (const heartbeat of this.#heartbeats) clearInterval(heartbeat);
    this.#heartbeats.clear();
  }

  async #run(): Promise<void> {
    const { client, queueUrl, concurrency } = this.#options;
    while (!this.#stopping.signal.aborted) {
      // `concurrency` messages are scheduled at once. A delete does not hold a scheduling
      // slot (the next message need not wait for SQS to answer it), but deletes under way
      // count against a second `concurrency`, so a slow SQS slows receiving too.
      const room = Math.min(
        concurrency - this.#inFlight.size,
        2 * concurrency - this.#inFlight.size - this.#deleting.size,
      );
      if (room <= 0) {
        await Promise.race([...this.#inFlight, ...this.#deleting]);
        continue;
      }
      let messages: Message[] = [];
      const call = deadline(
        this.#options.waitTimeSeconds * 1000 + CALL_TIMEOUT_MS,
        this.#stopping.signal,
      );
      try {
        const answer = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, room),
            WaitTimeSeconds: this.#options.waitTimeSeconds,
            VisibilityTimeout: this.#options.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
          { abortSignal: call.signal },
        );
        messages = answer.Messages ?? [];
        this.#receivedAgain();
      } catch (error) {
        if (this.#stopping.signal.aborted) break;
        await this.#receiveFailed(error as Error);
        continue;
      } finally {
        call.end();
      }
      for (const message of messages) {
        const work: Promise<void> = this.#handle(message)
          .catch((error: Error) =>
            this.#warn("message failed", { messageId: message.MessageId, error: error.message }),
          )
          .finally(() => this.#inFlight.delete(work));
        this.#inFlight.add(work);
      }
      // The next receive waits one turn of the event loop, so that the messages just
      // received send their creates first: the SDK's request (serializing, signing,
      // connecting) is about a millisecond of this thread's time, and in a profile it ran
      // between each message's parse and its create (bench/README.md, "The SQS path's p50").
      if (messages.length > 0) await nextTurn();
    }
  }

  /**
   * Says the first failure of a streak, with its reason, then waits longer after each
   * one. The rest of the streak is not logged: a queue unreachable for an hour is one
   * line, then one more when it comes back (and `receiving` is false meanwhile).
   */
  async #receiveFailed(error: Error): Promise<void> {
    this.#receiveFailures++;
    const waitMs = Math.round(
      receiveBackoffMs(this.#receiveFailures, this.#options.receiveBackoff),
    );
    if (this.#receiveFailures === 1) {
      this.#warn("receive failed; retrying with backoff until it works", {
        error: error.message,
        retryInMs: waitMs,
      });
    }
    await this.#options.sleep(waitMs, this.#stopping.signal);
  }

  /** Ends a failure streak, saying how long it was. */
  #receivedAgain(): void {
    if (this.#receiveFailures === 0) return;
    const failures = this.#receiveFailures;
    this.#receiveFailures = 0;
    try {
      this.#options.log.info("receiving again", { failedReceives: failures });
    } catch {
      // As in #warn.
    }
  }

  /**
   * Schedules one message; once its outcome is acknowledged, starts its delete and
   * returns, which frees its scheduling slot.
   */
  async #handle(message: Message): Promise<void> {
    const release = this.#keepInvisible(message);
    let released = false;
    try {
      let input: unknown;
      try {
        input = JSON.parse(message.Body ?? "");
      } catch {
        input = message.Body ?? "";
      }
      const context = {
        messageId: message.MessageId,
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
      };
      let outcome: ScheduleOutcome;
      try {
        outcome = await this.#options.schedule(input, context);
      } catch (error) {
        // The scheduler does not throw; if a wrapper does, the message simply comes back.
        this.#warn("schedule threw", { ...context, error: (error as Error).message });
        return;
      }
      if (dispositionOf(outcome) !== "acknowledge") return;
      // Added before this returns, so the message is always counted as held.
      released = true;
      const deleting: Promise<void> = this.#delete(message.ReceiptHandle ?? "", context).finally(
        () => {
          release();
          this.#deleting.delete(deleting);
        },
      );
      this.#deleting.add(deleting);
    } finally {
      if (!released) release();
    }
  }

  /** Deletes an acknowledged message; one that is not deleted comes back and ends `exists`. */
  async #delete(receipt: string, context: LogFields): Promise<void> {
    const call = deadline(CALL_TIMEOUT_MS);
    try {
      await this.#options.client.send(
        new DeleteMessageCommand({ QueueUrl: this.#options.queueUrl, ReceiptHandle: receipt }),
        { abortSignal: call.signal },
      );
    } catch (error) {
      this.#warn("delete failed", { ...context, error: (error as Error).message });
    } finally {
      call.end();
    }
  }

  /**
   * Extends the message's visibility at half its timeout until the returned function is
   * called, so a slow API server never makes it reappear while we still work on it.
   */
  #keepInvisible(message: Message): () => void {
    const { client, queueUrl, visibilityTimeoutSeconds } = this.#options;
    const heartbeat = setInterval(
      () => {
        const call = deadline(CALL_TIMEOUT_MS);
        client
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: message.ReceiptHandle ?? "",
              VisibilityTimeout: visibilityTimeoutSeconds,
            }),
            { abortSignal: call.signal },
          )
          .catch((error: Error) =>
            this.#warn("visibility extension failed", {
              messageId: message.MessageId,
              error: error.message,
            }),
          )
          .finally(() => call.end());
      },
      (visibilityTimeoutSeconds * 1000) / 2,
    );
    this.#heartbeats.add(heartbeat);
    return () => {
      clearInterval(heartbeat);
      this.#heartbeats.delete(heartbeat);
    };
  }
}
