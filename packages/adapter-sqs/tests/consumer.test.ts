import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { BatchV1Api, KubeConfig } from "@kubernetes/client-node";
import { SqsConsumer } from "@ondemand-eks/adapter-sqs";
import { LABELS, type LogFields, type Logger, type ScheduleOutcome } from "@ondemand-eks/core";
import {
  jobScheduledDetail,
  jobScheduledEvent,
  skipUnlessCi,
  startMoto,
  startTestControlPlane,
  type TestJob,
  type TestRun,
} from "@ondemand-eks/testenv";
import {
  type AdapterUnderTest,
  adapterContract,
  type Observed,
} from "@ondemand-eks/testenv/contract";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { libraryWithBrokenDefinition, recordingLog, testScheduler, until } from "./helpers.js";

// A control plane and a moto of this file's own, started here so that a missing Go or
// Python is reported as skipped (and fails under CI=true).
const plane: TestRun = await startTestControlPlane("sqs-consumer", { controllerManager: false });
const aws = await skipUnlessCi(() => startMoto("sqs-consumer"));
afterAll(async () => {
  await aws.value?.stop();
  await plane.teardown();
});
/** What the describe blocks below need: run them only when both are there. */
const needs = [plane.info, aws];

const sqs = new SQSClient({
  region: "us-east-1",
  endpoint: aws.value?.endpoint ?? "http://127.0.0.1:1",
  credentials: { accessKeyId: "AKIDSQSTEST", secretAccessKey: "sqs-test" },
});
const library = await libraryWithBrokenDefinition();

async function queue(name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-${randomUUID().slice(0, 8)}` }),
  );
  return QueueUrl!;
}

/**
 * A consumer wired as `ondemand-eks consume sqs` wires it: the runtime's scheduler and its
 * logger, which writes the one line per event (with the message id) read back here.
 */
async function consumerFor(
  queueUrl: string,
  options: { visibility?: number; gate?: Promise<void> } = {},
) {
  const { scheduler, lines } = await testScheduler(plane.state?.kubeconfig ?? "", library);
  const consumer = new SqsConsumer({
    client: sqs,
    queueUrl,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: options.visibility ?? 30,
    log: scheduler.log,
    schedule: async (input, context) => {
      await options.gate;
      return scheduler.schedule(input, context);
    },
  });
  consumer.start();
  const events = () => lines.filter((line) => line.msg === "event");
  return { consumer, logged: lines, events, scheduler };
}

const detail = jobScheduledDetail;
const eventBody = (job: TestJob) => JSON.stringify(jobScheduledEvent(job));

async function jobUuids(): Promise<string[]> {
  const config = new KubeConfig();
  config.loadFromFile(plane.state!.kubeconfig);
  const list = await config.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: "buildkite" });
  return list.items.map((job) => job.metadata?.labels?.[LABELS.jobUuid] ?? "");
}

/** Messages left in the queue, once SQS's approximate counts have settled (up to `waitMs`). */
async function drained(queueUrl: string, waitMs = 10_000): Promise<number> {
  let left = await visibleMessages(queueUrl);
  for (let i = 0; i < waitMs / 100 && left > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = await visibleMessages(queueUrl);
  }
  return left;
}

async function visibleMessages(queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

describeWith(needs, "contract: SQS consumer", () => {
  adapterContract({
    run: () => plane,
    library: "",
    body: eventBody,
    otherEventType: () =>
      JSON.stringify({
        ...JSON.parse(eventBody({ uuid: randomUUID(), rules: [] })),
        "detail-type": "Build Started",
      }),
    start: async (): Promise<AdapterUnderTest> => {
      const queueUrl = await queue("contract");
      const { consumer, events, scheduler } = await consumerFor(queueUrl);
      return {
        async deliver(body) {
          const { MessageId } = await sqs.send(
            new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }),
          );
          const entry = await until(
            () => events().find((line) => line.messageId === MessageId),
            `message ${MessageId}`,
          );
          return entry.outcome as Observed;
        },
        async stop() {
          await consumer.stop(5_000);
          await scheduler.close();
        },
      };
    },
  });
});

describeWith(needs, "SQS consumer at scale", () => {
  it("a burst of 500 events with 10% duplicates gives exactly the distinct Jobs, and deletes every message", async () => {
    const queueUrl = await queue("burst");
    const distinct = Array.from({ length: 450 }, () => randomUUID());
    const bodies = [...distinct, ...distinct.slice(0, 50)].map((uuid) =>
      // Half as whole events, half as detail only (EventBridge InputPath $.detail).
      uuid.charCodeAt(0) % 2 === 0
        ? eventBody({ uuid, rules: ["queue=default"] })
        : JSON.stringify(detail({ uuid, rules: ["queue=default"] })),
    );
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: bodies
            .slice(i, i + 10)
            .map((MessageBody, n) => ({ Id: String(n), MessageBody })),
        }),
      );
    }
    const { consumer, logged, events, scheduler } = await consumerFor(queueUrl);
    try {
      await until(() => (events().length >= 500 ? true : undefined), "500 outcomes", 3000);
      // A message handed out again (a delete that missed its deadline) is still being
      // worked on: keep consuming until the queue is empty, visible and in flight.
      expect(await drained(queueUrl, 60_000)).toBe(0);
    } finally {
      await consumer.stop(5_000);
      await scheduler.close();
    }
    // On a loaded machine a receive or delete can miss its deadline; the message then
    // comes back, which is what the counts below allow for. Anything else is a defect.
    const transient = new Set(["receive failed", "delete failed", "visibility extension failed"]);
    expect(logged.filter((l) => l.msg !== "event" && !transient.has(String(l.msg)))).toEqual([]);
    const outcomes = events().map((l) => l.outcome);
    // Each Job is created exactly once. A standard queue delivers at least once, so under
    // load SQS may hand a message out again: such repeats must end `exists`, never in a
    // second Job, which is why `exists` is at least the 50 duplicates rather than exactly.
    expect(outcomes.filter((o) => o === "created")).toHaveLength(450);
    expect(outcomes.filter((o) => o !== "created" && o !== "exists")).toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(500);
    const stored = await jobUuids();
    expect(distinct.filter((uuid) => !stored.includes(uuid))).toEqual([]);
    expect(stored.filter((uuid, i) => stored.indexOf(uuid) !== i)).toEqual([]);
    expect(await drained(queueUrl)).toBe(0);
  });

  it("a consumer stopped mid-batch loses nothing: another one takes the unfinished messages", async () => {
    const queueUrl = await queue("crash");
    const uuids = Array.from({ length: 10 }, () => randomUUID());
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: uuids.map((uuid, n) => ({
          Id: String(n),
          MessageBody: eventBody({ uuid, rules: ["queue=default"] }),
        })),
      }),
    );
    // The first consumer receives them and never finishes: it is stopped with no grace,
    // so its visibility extensions end and the messages come back after 2 s.
    const stuck = await consumerFor(queueUrl, { visibility: 2, gate: new Promise(() => {}) });
    await until(() => (stuck.consumer.inFlight === 10 ? true : undefined), "10 messages in flight");
    await stuck.consumer.stop(0);
    await stuck.scheduler.close();
    const second = await consumerFor(queueUrl);
    try {
      await until(() => (second.events().length >= 10 ? true : undefined), "10 outcomes");
    } finally {
      await second.consumer.stop(5_000);
      await second.scheduler.close();
    }
    const stored = new Set(await jobUuids());
    expect(uuids.filter((uuid) => !stored.has(uuid))).toEqual([]);
    expect(await drained(queueUrl)).toBe(0);
  });
});

/**
 * An SQS client that hands out `messages` in one receive, then long-polls until stopped,
 * and records which receipts were deleted.
 */
function scriptedQueue(messages: Message[]) {
  const deleted: string[] = [];
  let received = false;
  const client = {
    send: async (command: object, options?: { abortSignal?: AbortSignal }) => {
      if (command instanceof ReceiveMessageCommand) {
        if (!received) {
          received = true;
          return { Messages: messages };
        }
        return new Promise((_, reject) =>
          options?.abortSignal?.addEventListener("abort", () => reject(new Error("aborted"))),
        );
      }
      if (command instanceof DeleteMessageCommand) deleted.push(command.input.ReceiptHandle ?? "");
      return {};
    },
  } as unknown as SQSClient;
  return { client, deleted };
}

/** One outcome of each kind there is, by name. */
const OUTCOMES: Record<ScheduleOutcome["outcome"], ScheduleOutcome> = {
  created: placed("created"),
  exists: placed("exists"),
  "dry-run": { ...placed("created"), outcome: "dry-run", result: "created" },
  ignored: { outcome: "ignored", reason: "queue deploy", durationMs: 1 },
  invalid: { outcome: "invalid", reason: "job.id: required", refusedBy: "event", durationMs: 1 },
  failed: { outcome: "failed", reason: "API server unreachable", durationMs: 1 },
};

function placed(
  outcome: "created" | "exists",
): Extract<ScheduleOutcome, { outcome: typeof outcome }> {
  const job = randomUUID();
  return {
    outcome,
    job,
    name: `buildkite-${job}`,
    namespace: "buildkite",
    queue: "default",
    podDefinition: "default",
    attempts: 1,
    durationMs: 1,
  };
}

describe("what the consumer does with each outcome", () => {
  it("deletes exactly the messages whose outcome is acknowledged: dry-run too, never invalid or failed", async () => {
    // Prepare: one message per outcome, its body naming the outcome the scheduler returns.
    const names = Object.keys(OUTCOMES) as ScheduleOutcome["outcome"][];
    const { client, deleted } = scriptedQueue(
      names.map((name) => ({
        MessageId: `id-${name}`,
        ReceiptHandle: `receipt-${name}`,
        Body: JSON.stringify(name),
      })),
    );
    const seen: LogFields[] = [];
    const consumer = new SqsConsumer({
      client,
      queueUrl: "http://q",
      waitTimeSeconds: 0,
      log: recordingLog().log,
      schedule: async (input, context) => {
        seen.push(context);
        return OUTCOMES[input as ScheduleOutcome["outcome"]];
      },
    });
    // Act
    consumer.start();
    await until(() => (seen.length === names.length ? true : undefined), "every message");
    await consumer.stop(5_000);
    // Assess
    expect(deleted.sort()).toEqual(
      ["receipt-created", "receipt-exists", "receipt-dry-run", "receipt-ignored"].sort(),
    );
  });

  it("gives the scheduler each message's id and receive count", async () => {
    // Prepare
    const { client } = scriptedQueue([
      {
        MessageId: "m-1",
        ReceiptHandle: "r-1",
        Body: "{}",
        Attributes: { ApproximateReceiveCount: "3" },
      },
      { MessageId: "m-2", ReceiptHandle: "r-2", Body: "{not json" },
    ]);
    const seen: [unknown, LogFields][] = [];
    const consumer = new SqsConsumer({
      client,
      queueUrl: "http://q",
      waitTimeSeconds: 0,
      concurrency: 1,
      log: recordingLog().log,
      schedule: async (input, context) => {
        seen.push([input, context]);
        return OUTCOMES.ignored;
      },
    });
    // Act
    consumer.start();
    await until(() => (seen.length === 2 ? true : undefined), "both messages");
    await consumer.stop(5_000);
    // Assess: a body that is not JSON reaches the scheduler as it is, which reports it invalid.
    expect(seen).toEqual([
      [{}, { messageId: "m-1", receiveCount: 3 }],
      ["{not json", { messageId: "m-2", receiveCount: 1 }],
    ]);
  });

  it("keeps a message whose scheduling threw, and says so", async () => {
    const { client, deleted } = scriptedQueue([
      { MessageId: "m-1", ReceiptHandle: "r-1", Body: "{}" },
    ]);
    const warned: [string, LogFields | undefined][] = [];
    const log: Logger = {
      debug: () => {},
      info: () => {},
      warn: (msg, fields) => warned.push([msg, fields]),
      error: () => {},
      child: () => log,
    };
    const consumer = new SqsConsumer({
      client,
      queueUrl: "http://q",
      waitTimeSeconds: 0,
      log,
      schedule: async () => {
        throw new TypeError("library unavailable");
      },
    });
    consumer.start();
    await until(() => (warned.length > 0 ? true : undefined), "the warning");
    await consumer.stop(5_000);
    expect(deleted).toEqual([]);
    expect(warned).toEqual([
      ["schedule threw", { messageId: "m-1", receiveCount: 1, error: "library unavailable" }],
    ]);
  });

  it("keeps consuming when its logger throws", async () => {
    const handled: string[] = [];
    const fake = {
      send: async (command: object) => {
        if (command instanceof ReceiveMessageCommand) {
          if (handled.length >= 2) return new Promise(() => {});
          return { Messages: [{ MessageId: randomUUID(), ReceiptHandle: "r", Body: "{}" }] };
        }
        // A failing delete makes the consumer log; the logger then throws.
        throw new Error("delete failed");
      },
    } as unknown as SQSClient;
    const broken = () => {
      throw new Error("logger broke");
    };
    const log: Logger = {
      debug: broken,
      info: broken,
      warn: broken,
      error: broken,
      child: () => log,
    };
    const consumer = new SqsConsumer({
      client: fake,
      queueUrl: "http://q",
      waitTimeSeconds: 0,
      log,
      schedule: async () => {
        handled.push("x");
        return OUTCOMES.ignored;
      },
    });
    consumer.start();
    for (let i = 0; i < 100 && handled.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await consumer.stop(100);
    expect(handled.length).toBeGreaterThanOrEqual(2);
  });
});

describeWith(needs, "SQS consumer on a real queue keeps what is not acknowledged", () => {
  it("an invalid message is left for the redrive policy: it comes back, its receive count in the scheduler's line", async () => {
    // Prepare
    const queueUrl = await queue("invalid");
    const { consumer, events, scheduler } = await consumerFor(queueUrl, { visibility: 2 });
    // Act
    const { MessageId } = await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "{not json" }),
    );
    try {
      await until(
        () =>
          events().filter((line) => line.messageId === MessageId).length >= 2 ? true : undefined,
        "the message received twice",
      );
    } finally {
      await consumer.stop(5_000);
      await scheduler.close();
    }
    // Assess
    const lines = events().filter((line) => line.messageId === MessageId);
    expect(lines.slice(0, 2)).toEqual([
      expect.objectContaining({ level: "warn", outcome: "invalid", receiveCount: 1 }),
      expect.objectContaining({ level: "warn", outcome: "invalid", receiveCount: 2 }),
    ]);
    expect(await visibleMessages(queueUrl)).toBe(1);
  });
});

describeWith(needs, "SQS consumer readiness", () => {
  it("reports not receiving while its queue does not exist, and receiving once it does", async () => {
    const name = `later-${randomUUID().slice(0, 8)}`;
    const endpoint = aws.value?.endpoint ?? "";
    // moto's queue URLs are <endpoint>/<account>/<name>; the queue is created only later.
    const queueUrl = `${endpoint}/123456789012/${name}`;
    const { log, lines } = recordingLog();
    const consumer = new SqsConsumer({
      client: sqs,
      queueUrl,
      waitTimeSeconds: 0,
      log,
      // Fast retries: the queue appears within a few of them.
      receiveBackoff: { initialMs: 100, maxMs: 200 },
      schedule: async () => ({ outcome: "ignored", reason: "r", durationMs: 0 }),
    });
    expect(consumer.receiving).toBe(true);
    consumer.start();
    try {
      await until(() => (consumer.receiving ? undefined : true), "a failed receive");
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
      expect(QueueUrl).toBe(queueUrl);
      await until(() => (consumer.receiving ? true : undefined), "a receive that works");
    } finally {
      await consumer.stop(1_000);
    }
    // Assess: the streak said once, with SQS's reason, and its end.
    expect(lines.map((line) => line.msg)).toEqual([
      "receive failed; retrying with backoff until it works",
      "receiving again",
    ]);
    expect(lines[0]).toMatchObject({ level: "warn", error: expect.stringMatching(/queue/i) });
  });
});
