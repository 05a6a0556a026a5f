import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SqsConsumer } from "@ondemand-eks/adapter-sqs";
import type { ScheduleOutcome } from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";
import { recordingLog, until } from "./helpers.js";

const created = (job: string): ScheduleOutcome => ({
  outcome: "created",
  job,
  name: `buildkite-${job}`,
  namespace: "buildkite",
  queue: "default",
  podDefinition: "default",
  attempts: 1,
  durationMs: 1,
});

/**
 * A queue that hands out one message per receive, as many as asked for in all, and whose
 * deletes are answered only when `answerDeletes` is called.
 */
function queueWithSlowDeletes(total: number) {
  let handedOut = 0;
  const pendingDeletes: (() => void)[] = [];
  const client = {
    send: async (command: object, options?: { abortSignal?: AbortSignal }) => {
      if (command instanceof DeleteMessageCommand) {
        return new Promise((resolve) => pendingDeletes.push(() => resolve({})));
      }
      if (command instanceof ReceiveMessageCommand && handedOut < total) {
        handedOut++;
        return {
          Messages: [{ MessageId: `m-${handedOut}`, ReceiptHandle: `r-${handedOut}`, Body: "{}" }],
        };
      }
      return new Promise((_, reject) =>
        options?.abortSignal?.addEventListener("abort", () => reject(new Error("aborted"))),
      );
    },
  } as unknown as SQSClient;
  const answerDeletes = () => {
    for (const answer of pendingDeletes.splice(0)) answer();
  };
  return { client, pendingDeletes, answerDeletes };
}

describe("deletes and the scheduling slots", () => {
  it("a message waiting for its delete does not hold a scheduling slot", async () => {
    // Prepare: one slot, deletes that SQS does not answer yet.
    const { client, pendingDeletes, answerDeletes } = queueWithSlowDeletes(2);
    const scheduled: string[] = [];
    const consumer = new SqsConsumer({
      client,
      queueUrl: "http://q",
      concurrency: 1,
      waitTimeSeconds: 0,
      log: recordingLog().log,
      schedule: async (_input, context) => {
        scheduled.push(String(context.messageId));
        return created(String(context.messageId));
      },
    });
    // Act
    consumer.start();
    await until(() => (pendingDeletes.length === 2 ? true : undefined), "both deletes sent");
    // Assess: the second was scheduled while the first's delete was unanswered.
    expect(scheduled).toEqual(["m-1", "m-2"]);
    expect(consumer.inFlight).toBe(2);
    answerDeletes();
    await until(() => (consumer.inFlight === 0 ? true : undefined), "deletes answered");
    await consumer.stop(1_000);
  });

  it("holds at most twice its concurrency while deletes wait, and stop() waits for them", async () => {
    // Prepare
    const { client, pendingDeletes, answerDeletes } = queueWithSlowDeletes(10);
    const consumer = new SqsConsumer({
      client,
      queueUrl: "http://q",
      concurrency: 2,
      waitTimeSeconds: 0,
      log: recordingLog().log,
      schedule: async (_input, context) => created(String(context.messageId)),
    });
    // Act
    consumer.start();
    await until(() => (pendingDeletes.length === 4 ? true : undefined), "four deletes sent");
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Assess: no fifth message received while four deletes wait.
    expect(pendingDeletes).toHaveLength(4);
    expect(consumer.inFlight).toBe(4);
    let stopped = false;
    const stopping = consumer.stop(5_000).then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    answerDeletes();
    await stopping;
    expect(consumer.inFlight).toBe(0);
  });
});
