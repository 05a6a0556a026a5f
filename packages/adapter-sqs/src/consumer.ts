import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import {
  dispositionOf,
  type LogFields,
  type Logger,
  type ScheduleOutcome,
} from "@ondemand-eks/core";

export interface SqsConsumerOptions {
  client: SQSClient;
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
  /** For the consumer's own problems (receive, delete, visibility); never given bodies. */
  log?: Logger;
}

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
  readonly #options: Required<Omit<SqsConsumerOptions, "log">> & Pick<SqsConsumerOptions, "log">;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #heartbeats = new Set<NodeJS.Timeout>();
  #stopping = new AbortController();
  #receiveFailed = false;
  #loop: Promise<void> | undefined;

  constructor(options: SqsConsumerOptions) {
    this.#options = {
      concurrency: 10,
      waitTimeSeconds: 20,
      visibilityTimeoutSeconds: 60,
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
      this.#options.log?.warn(msg, fields);
    } catch {
      // Nothing better to do with a broken logger.
    }
  }

  /**
   * False while receiving fails (bad credentials, a deleted queue, SQS unreachable), true
   * again after the next receive that works: what a readiness probe should report.
   */
  get receiving(): boolean {
    return !this.#receiveFailed;
  }

  /** Messages being scheduled right now. */
  get inFlight(): number {
    return this.#inFlight.size;
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
      const room = concurrency - this.#inFlight.size;
      if (room <= 0) {
        await Promise.race([...this.#inFlight]);
        continue;
      }
      let messages: Message[] = [];
      try {
        const answer = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, room),
            WaitTimeSeconds: this.#options.waitTimeSeconds,
            VisibilityTimeout: this.#options.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
          {
            abortSignal: AbortSignal.any([
              this.#stopping.signal,
              AbortSignal.timeout(this.#options.waitTimeSeconds * 1000 + CALL_TIMEOUT_MS),
            ]),
          },
        );
        messages = answer.Messages ?? [];
        this.#receiveFailed = false;
      } catch (error) {
        if (this.#stopping.signal.aborted) break;
        this.#receiveFailed = true;
        this.#warn("receive failed", { error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        continue;
      }
      for (const message of messages) {
        const work: Promise<void> = this.#handle(message)
          .catch((error: Error) =>
            this.#warn("message failed", { messageId: message.MessageId, error: error.message }),
          )
          .finally(() => this.#inFlight.delete(work));
        this.#inFlight.add(work);
      }
    }
  }

  async #handle(message: Message): Promise<void> {
    const { client, queueUrl, visibilityTimeoutSeconds } = this.#options;
    const receipt = message.ReceiptHandle ?? "";
    // Extend visibility at half the timeout while this message is in progress.
    const heartbeat = setInterval(
      () => {
        client
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: receipt,
              VisibilityTimeout: visibilityTimeoutSeconds,
            }),
            { abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) },
          )
          .catch((error: Error) =>
            this.#warn("visibility extension failed", {
              messageId: message.MessageId,
              error: error.message,
            }),
          );
      },
      (visibilityTimeoutSeconds * 1000) / 2,
    );
    this.#heartbeats.add(heartbeat);
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
      try {
        await client.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }),
          { abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) },
        );
      } catch (error) {
        // Not deleted: it comes back after its visibility timeout and ends `exists`.
        this.#warn("delete failed", { ...context, error: (error as Error).message });
      }
    } finally {
      clearInterval(heartbeat);
      this.#heartbeats.delete(heartbeat);
    }
  }
}
