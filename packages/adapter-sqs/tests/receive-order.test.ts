import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SqsConsumer } from "@ondemand-eks/adapter-sqs";
import type { ScheduleOutcome } from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";
import { recordingLog, until } from "./helpers.js";

describe("the next receive", () => {
  it("starts after the messages just received have sent their creates", async () => {
    // Prepare: a first receive with two messages, then long polls that never answer; a
    // scheduling path that, like the real one, reaches its create through a few awaits.
    const calls: string[] = [];
    let receives = 0;
    const client = {
      send: async (command: object, options?: { abortSignal?: AbortSignal }) => {
        if (!(command instanceof ReceiveMessageCommand)) return {};
        calls.push("receive");
        receives++;
        if (receives === 1) {
          return {
            Messages: ["m-1", "m-2"].map((id) => ({
              MessageId: id,
              ReceiptHandle: id,
              Body: "{}",
            })),
          };
        }
        return new Promise((_, reject) =>
          options?.abortSignal?.addEventListener("abort", () => reject(new Error("aborted"))),
        );
      },
    } as unknown as SQSClient;
    const consumer = new SqsConsumer({
      client,
      queueUrl: "http://q",
      waitTimeSeconds: 0,
      log: recordingLog().log,
      schedule: async (_input, context): Promise<ScheduleOutcome> => {
        for (let step = 0; step < 5; step++) await Promise.resolve();
        calls.push(`create ${String(context.messageId)}`);
        return { outcome: "failed", reason: "not here", durationMs: 0 };
      },
    });
    // Act
    consumer.start();
    await until(() => (receives === 2 ? true : undefined), "a second receive");
    await consumer.stop(1_000);
    // Assess
    expect(calls).toEqual(["receive", "create m-1", "create m-2", "receive"]);
  });
});
