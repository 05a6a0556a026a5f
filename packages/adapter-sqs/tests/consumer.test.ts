import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { BatchV1Api, KubeConfig } from "@kubernetes/client-node";
import { SqsConsumer } from "@ondemand-eks/adapter-sqs";
import {
  definePodDefinition,
  LABELS,
  resolveSettings,
  type ScheduleOutcome,
  schedule,
} from "@ondemand-eks/core";
import { bundledLibraryDir, loadPodLibrary } from "@ondemand-eks/pod-library";
import { kubeconfigAuth, Submitter } from "@ondemand-eks/submitter";
import {
  jobScheduledDetail,
  jobScheduledEvent,
  startTestControlPlane,
  startTestMoto,
  type TestJob,
  type TestRun,
} from "@ondemand-eks/testenv";
import {
  type AdapterUnderTest,
  adapterContract,
  type Observed,
} from "@ondemand-eks/testenv/contract";
import { describeUnless } from "@ondemand-eks/testenv/vitest";
import { afterAll, describe, expect, it } from "vitest";

// A control plane and a moto of this file's own, started here so that a missing Go or
// Python is reported as skipped (and fails under CI=true).
const plane: TestRun = await startTestControlPlane("sqs-consumer", { controllerManager: false });
const aws = await startTestMoto("sqs-consumer");
afterAll(async () => {
  await aws.moto?.stop();
  await plane.teardown();
});
const skipReason = !plane.info.available ? plane.info.reason : aws.skipReason;

const sqs = new SQSClient({
  region: "us-east-1",
  endpoint: aws.moto?.endpoint ?? "http://127.0.0.1:1",
  credentials: { accessKeyId: "AKIDSQSTEST", secretAccessKey: "sqs-test" },
});
const bundled = await loadPodLibrary(bundledLibraryDir());
const broken = definePodDefinition({
  name: "broken",
  agent: { image: "buildkite/agent:3" },
  pod: { nodeSelector: { "not a valid key!": "x" } },
});

async function queue(name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-${randomUUID().slice(0, 8)}` }),
  );
  return QueueUrl!;
}

async function consumerFor(
  queueUrl: string,
  options: { visibility?: number; gate?: Promise<void> } = {},
) {
  const submitter = new Submitter({
    auth: await kubeconfigAuth({ path: plane.state!.kubeconfig }),
    timeoutMs: 60_000,
  });
  const logged: Record<string, unknown>[] = [];
  const consumer = new SqsConsumer({
    client: sqs,
    queueUrl,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: options.visibility ?? 30,
    log: (entry) => logged.push(entry),
    schedule: async (input) => {
      await options.gate;
      return schedule(input, {
        settings: resolveSettings({}),
        lookup: (name) => (name === "broken" ? broken : bundled.get(name)),
        submit: (manifest) => submitter.submit(manifest),
      });
    },
  });
  consumer.start();
  return { consumer, logged, submitter };
}

const detail = jobScheduledDetail;
const eventBody = (job: TestJob) => JSON.stringify(jobScheduledEvent(job));

async function until<T>(find: () => T | undefined, what: string, attempts = 1200): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

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

describeUnless(skipReason, "contract: SQS consumer", () => {
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
      const { consumer, logged, submitter } = await consumerFor(queueUrl);
      return {
        async deliver(body) {
          const { MessageId } = await sqs.send(
            new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }),
          );
          const entry = await until(
            () => logged.find((line) => line.messageId === MessageId),
            `message ${MessageId}`,
          );
          return entry.outcome as Observed;
        },
        async stop() {
          await consumer.stop(5_000);
          submitter.close();
        },
      };
    },
  });
});

describeUnless(skipReason, "SQS consumer at scale", () => {
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
    const { consumer, logged, submitter } = await consumerFor(queueUrl);
    try {
      await until(
        () => (logged.filter((l) => l.msg === "message").length >= 500 ? true : undefined),
        "500 outcomes",
        3000,
      );
      // A message handed out again (a delete that missed its deadline) is still being
      // worked on: keep consuming until the queue is empty, visible and in flight.
      expect(await drained(queueUrl, 60_000)).toBe(0);
    } finally {
      await consumer.stop(5_000);
      submitter.close();
    }
    // On a loaded machine a receive or delete can miss its deadline; the message then
    // comes back, which is what the counts below allow for. Anything else is a defect.
    const transient = new Set(["receive failed", "delete failed", "visibility extension failed"]);
    expect(logged.filter((l) => l.msg !== "message" && !transient.has(String(l.msg)))).toEqual([]);
    const outcomes = logged.filter((l) => l.msg === "message").map((l) => l.outcome);
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
    stuck.submitter.close();
    const second = await consumerFor(queueUrl);
    try {
      await until(
        () => (second.logged.filter((l) => l.msg === "message").length >= 10 ? true : undefined),
        "10 outcomes",
      );
    } finally {
      await second.consumer.stop(5_000);
      second.submitter.close();
    }
    const stored = new Set(await jobUuids());
    expect(uuids.filter((uuid) => !stored.has(uuid))).toEqual([]);
    expect(await drained(queueUrl)).toBe(0);
  });
});

describe("SqsConsumer never crashes on its own callbacks", () => {
  it("keeps consuming when the logger and the outcome callback throw", async () => {
    const handled: string[] = [];
    const fake = {
      send: async (command: { constructor: { name: string } }) => {
        if (command.constructor.name === "ReceiveMessageCommand") {
          if (handled.length >= 2) return new Promise(() => {});
          return { Messages: [{ MessageId: randomUUID(), ReceiptHandle: "r", Body: "{}" }] };
        }
        return {};
      },
    } as unknown as SQSClient;
    const consumer = new SqsConsumer({
      client: fake,
      queueUrl: "http://q",
      waitTimeSeconds: 0,
      schedule: async () => {
        handled.push("x");
        return { outcome: "ignored", reason: "r", durationMs: 0 };
      },
      log: () => {
        throw new Error("logger broke");
      },
      onOutcome: () => {
        throw new Error("metrics broke");
      },
    });
    consumer.start();
    for (let i = 0; i < 100 && handled.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await consumer.stop(100);
    expect(handled.length).toBeGreaterThanOrEqual(2);
  });
});

describeUnless(skipReason, "SQS consumer readiness", () => {
  it("reports not receiving while its queue does not exist, and receiving once it does", async () => {
    const name = `later-${randomUUID().slice(0, 8)}`;
    const endpoint = aws.moto?.endpoint ?? "";
    // moto's queue URLs are <endpoint>/<account>/<name>; the queue is created only later.
    const queueUrl = `${endpoint}/123456789012/${name}`;
    const consumer = new SqsConsumer({
      client: sqs,
      queueUrl,
      waitTimeSeconds: 0,
      schedule: async () => ({ outcome: "ignored", reason: "r", durationMs: 0 }),
      log: () => {},
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
  });
});
