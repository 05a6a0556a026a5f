import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { receiveBackoffMs, SqsConsumer } from "@ondemand-eks/adapter-sqs";
import { describe, expect, it } from "vitest";
import { type Line, recordingLog, until } from "./helpers.js";

/**
 * An SQS client whose receives follow `script`: an Error is thrown, an array of bodies is
 * answered as messages; past the script, a receive long-polls until the consumer stops.
 */
function scriptedReceives(script: (Error | string[])[]) {
  let receives = 0;
  const client = {
    send: async (command: object, options?: { abortSignal?: AbortSignal }) => {
      if (command instanceof DeleteMessageCommand) return {};
      if (!(command instanceof ReceiveMessageCommand)) throw new Error("unexpected command");
      const step = script[receives++];
      if (step instanceof Error) throw step;
      if (step) {
        return {
          Messages: step.map((Body, n) => ({
            MessageId: `m-${receives}-${n}`,
            ReceiptHandle: `r-${receives}-${n}`,
            Body,
          })),
        };
      }
      return new Promise((_, reject) =>
        options?.abortSignal?.addEventListener("abort", () => reject(new Error("aborted"))),
      );
    },
  } as unknown as SQSClient;
  return { client, receives: () => receives };
}

/** A consumer on `client` whose waits are recorded and skipped, its jitter fixed at the middle. */
function consumerWithRecordedWaits(client: SQSClient) {
  const waits: number[] = [];
  const { log, lines } = recordingLog();
  const consumer = new SqsConsumer({
    client,
    queueUrl: "http://q",
    waitTimeSeconds: 0,
    log,
    receiveBackoff: { random: () => 0.5 },
    sleep: async (ms) => {
      waits.push(ms);
    },
    schedule: async () => ({ outcome: "ignored", reason: "not ours", durationMs: 0 }),
  });
  return { consumer, waits, lines };
}

const unreachable = () =>
  Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { name: "TimeoutError" });
const messages = (lines: Line[]) => lines.map((line) => [line.level, line.msg, line.error]);

describe("a consumer that cannot receive", () => {
  it("says so once per failure streak, with the reason, and again when receiving works", async () => {
    // Prepare: three failures, a message, two failures of another kind, a message.
    const denied = new Error("The security token included in the request is invalid.");
    const { client, receives } = scriptedReceives([
      unreachable(),
      unreachable(),
      unreachable(),
      ["{}"],
      denied,
      denied,
      ["{}"],
    ]);
    const { consumer, lines } = consumerWithRecordedWaits(client);
    // Act
    consumer.start();
    await until(() => (receives() > 7 ? true : undefined), "the script played");
    await consumer.stop(1_000);
    // Assess
    expect(messages(lines)).toEqual([
      [
        "warn",
        "receive failed; retrying with backoff until it works",
        "connect ECONNREFUSED 10.0.0.1:443",
      ],
      ["info", "receiving again", undefined],
      ["warn", "receive failed; retrying with backoff until it works", denied.message],
      ["info", "receiving again", undefined],
    ]);
    expect(lines.map((line) => line.failedReceives)).toEqual([undefined, 3, undefined, 2]);
  });

  it("waits longer after each failure of a streak, and starts again after a receive that works", async () => {
    // Prepare
    const { client, receives } = scriptedReceives([
      ...Array.from({ length: 8 }, unreachable),
      ["{}"],
      unreachable(),
      unreachable(),
    ]);
    const { consumer, waits, lines } = consumerWithRecordedWaits(client);
    // Act
    consumer.start();
    await until(() => (receives() > 11 ? true : undefined), "the script played");
    await consumer.stop(1_000);
    // Assess: three quarters of a ceiling that doubles from 1 s up to 30 s.
    expect(waits).toEqual([750, 1_500, 3_000, 6_000, 12_000, 22_500, 22_500, 22_500, 750, 1_500]);
    expect(lines[0]).toMatchObject({ retryInMs: 750 });
    // The last streak has not ended: no receive has worked since.
    expect(consumer.receiving).toBe(false);
  });

  it("is not receiving during a streak, and stops at once while it waits", async () => {
    // Prepare: failures only, with the default (timer) sleep and a long first wait.
    const { client } = scriptedReceives(Array.from({ length: 5 }, unreachable));
    const { log } = recordingLog();
    const consumer = new SqsConsumer({
      client,
      queueUrl: "http://q",
      waitTimeSeconds: 0,
      log,
      receiveBackoff: { initialMs: 600_000, maxMs: 600_000 },
      schedule: async () => ({ outcome: "ignored", reason: "not ours", durationMs: 0 }),
    });
    // Act
    consumer.start();
    await until(() => (consumer.receiving ? undefined : true), "a failed receive");
    const stopped = consumer.stop(60_000).then(() => "stopped");
    const timedOut = new Promise((resolve) => setTimeout(resolve, 5_000, "still waiting"));
    // Assess: stop() ends the ten-minute wait instead of sitting it out.
    expect(await Promise.race([stopped, timedOut])).toBe("stopped");
  });
});

describe("receiveBackoffMs", () => {
  it("doubles its ceiling from initialMs up to maxMs, and waits at least half of it", () => {
    const options = { initialMs: 100, maxMs: 1_000 };
    const ceilings = [100, 200, 400, 800, 1_000, 1_000];
    ceilings.forEach((ceiling, i) => {
      expect(receiveBackoffMs(i + 1, { ...options, random: () => 0 })).toBe(ceiling / 2);
      expect(receiveBackoffMs(i + 1, { ...options, random: () => 0.999999 })).toBeCloseTo(ceiling);
    });
  });

  it("stays within its cap after any number of failures, and never goes below zero", () => {
    for (const failures of [0, 1, 31, 1_000, Number.MAX_SAFE_INTEGER]) {
      const wait = receiveBackoffMs(failures, { random: Math.random });
      expect(wait).toBeGreaterThanOrEqual(500);
      expect(wait).toBeLessThanOrEqual(30_000);
    }
  });
});
