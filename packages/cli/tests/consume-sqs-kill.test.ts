import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { BatchV1Api, KubeConfig } from "@kubernetes/client-node";
import { LABELS } from "@ondemand-eks/core";
import {
  jobScheduledEvent,
  skipUnlessCi,
  startApiserver,
  startMoto,
  startTestControlPlane,
  stopApiserver,
  type TestRun,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, afterEach, expect, it } from "vitest";

/**
 * The real `ondemand-eks consume sqs` process, killed with SIGKILL while it holds a batch
 * of messages, loses nothing: a second process schedules every one of them, once.
 *
 * This file stops the API server (so the first process's submissions keep retrying and
 * its messages stay in flight), so it has a control plane of its own, and a moto.
 */
const plane: TestRun = await startTestControlPlane("cli-consume-sqs-kill", {
  controllerManager: false,
});
const aws = await skipUnlessCi(() => startMoto("cli-consume-sqs-kill"));
afterAll(async () => {
  await aws.value?.stop();
  await plane.teardown();
});

/** Set whenever the tests run (both prerequisites are available). */
function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}

// The built executable, run as a user runs it (see bin.test.ts).
const BIN = new URL("../dist/bin.js", import.meta.url).pathname;
const CREDENTIALS = { accessKeyId: "AKIDCLIKILL", secretAccessKey: "kill-test" };
const N = 30;
/** Every wait below polls up to this long; nothing is timed, this only bounds a failure. */
const DEADLINE_MS = 120_000;

interface Consumer {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: Consumer[] = [];
afterEach(() => {
  for (const { child } of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

function startConsumer(queueUrl: string, flags: string[]): Consumer {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_REGION: "us-east-1",
  };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  const child = spawn(
    process.execPath,
    [
      BIN,
      "consume",
      "sqs",
      "--queue-url",
      queueUrl,
      "--sqs-endpoint",
      present(aws.value, "moto").endpoint,
      "--region",
      "us-east-1",
      "--kubeconfig",
      present(plane.state, "the control plane").kubeconfig,
      "--wait",
      "1",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      ...flags,
    ],
    { env, stdio: ["pipe", "pipe", "pipe"] },
  );
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // "close", not "exit": by then all of its output has been read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  const consumer = { child, stdout: () => stdout, stderr: () => stderr, exited };
  children.push(consumer);
  return consumer;
}

/** Polls `check` until it returns a value; fails if the deadline passes or `alive` exits. */
async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  alive?: Consumer,
): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  while (Date.now() < deadline) {
    if (alive && (alive.child.exitCode !== null || alive.child.signalCode !== null)) {
      throw new Error(`the consumer exited while waiting for ${what}:\n${alive.stderr()}`);
    }
    const found = await check();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`gave up waiting for ${what} after ${DEADLINE_MS / 1000}s`);
}

describeWith([plane.info, aws], "ondemand-eks consume sqs, killed with SIGKILL mid-batch", () => {
  const sqs = new SQSClient({
    region: "us-east-1",
    endpoint: aws.value?.endpoint ?? "http://127.0.0.1:1",
    credentials: CREDENTIALS,
  });
  afterAll(() => sqs.destroy());

  async function counts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return {
      visible: Number(Attributes?.ApproximateNumberOfMessages ?? Number.NaN),
      inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? Number.NaN),
    };
  }

  /** The job-uuid label of every Job in the namespace (the control plane is this file's). */
  async function jobUuids(): Promise<string[]> {
    const config = new KubeConfig();
    config.loadFromFile(present(plane.state, "the control plane").kubeconfig);
    const list = await config
      .makeApiClient(BatchV1Api)
      .listNamespacedJob({ namespace: "buildkite", labelSelector: LABELS.jobUuid });
    return list.items.map((job) => job.metadata?.labels?.[LABELS.jobUuid] ?? "");
  }

  const eventBody = (uuid: string) => JSON.stringify(jobScheduledEvent({ uuid }));

  /** The structured lines a consumer printed for finished messages. */
  function outcomes(
    consumer: Consumer,
  ): { job?: string; outcome?: string; receiveCount?: number }[] {
    return consumer
      .stdout()
      .split("\n")
      .slice(0, -1) // complete lines only
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.msg === "event");
  }

  it(
    "a second process schedules every message the killed one held, each exactly once",
    async () => {
      const { QueueUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: `cli-kill-${randomUUID().slice(0, 8)}` }),
      );
      const queueUrl = present(QueueUrl, "the queue URL");
      const state = present(plane.state, "the control plane");
      const uuids = Array.from({ length: N }, () => randomUUID());
      for (let i = 0; i < N; i += 10) {
        await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: uuids
              .slice(i, i + 10)
              .map((uuid, n) => ({ Id: String(n), MessageBody: eventBody(uuid) })),
          }),
        );
      }
      expect(await counts(queueUrl)).toEqual({ visible: N, inFlight: 0 });

      // With the API server down, every submission retries inside its (long) deadline, so
      // the first process takes the messages and cannot finish any of them.
      await stopApiserver(state, 0);
      const first = startConsumer(queueUrl, [
        "--visibility-timeout",
        "2",
        // Room for all of them, and for any whose visibility lapsed on a busy machine.
        "--concurrency",
        "100",
        "--timeout",
        "600",
      ]);
      // The process has taken every message: none is left visible in the queue. What SQS
      // held for it then is asserted below, after the Jobs, so that a lost message is
      // reported as the missing Job it means.
      const beforeKill = await until(
        "the first consumer to receive every message",
        async () => {
          const now = await counts(queueUrl);
          return now.visible === 0 ? now : undefined;
        },
        first,
      );
      first.child.kill("SIGKILL");
      expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
      const finishedByFirst = outcomes(first);

      await startApiserver(state);
      expect(await jobUuids()).toEqual([]);

      // The killed process's visibility extensions died with it: its messages come back
      // after 2 s, to a second process.
      const second = startConsumer(queueUrl, ["--visibility-timeout", "30", "--timeout", "60"]);
      // A message is deleted only after its Job is stored, so an empty queue is final:
      // every Job there will be is there.
      await until(
        "the queue to drain",
        async () => {
          const { visible, inFlight } = await counts(queueUrl);
          return visible + inFlight === 0 ? true : undefined;
        },
        second,
      );
      const stored = await jobUuids();
      expect(uuids.filter((uuid) => !stored.includes(uuid))).toEqual([]);
      expect(stored.filter((uuid, i) => stored.indexOf(uuid) !== i)).toEqual([]);
      expect(stored.toSorted()).toEqual(uuids.toSorted());

      // The kill really happened mid-batch: all N in flight, none finished by the first
      // process, and the second received each of them again. (A lost answer under load can
      // make the second process's own retry report `exists`, hence "at most one created".)
      expect(beforeKill).toEqual({ visible: 0, inFlight: N });
      expect(finishedByFirst).toEqual([]);
      const logged = outcomes(second);
      for (const uuid of uuids) {
        const lines = logged.filter((line) => line.job === uuid);
        expect(lines.length, uuid).toBeGreaterThan(0);
        expect(
          lines.filter((line) => line.outcome !== "created" && line.outcome !== "exists"),
          uuid,
        ).toEqual([]);
        expect(lines.filter((line) => line.outcome === "created").length, uuid).toBeLessThanOrEqual(
          1,
        );
        expect(lines[0]?.receiveCount, uuid).toBeGreaterThanOrEqual(2);
      }

      second.child.kill("SIGTERM");
      expect(await second.exited).toEqual({ code: 0, signal: null });
      expect(second.stderr()).toContain("shutting down");
    },
    5 * DEADLINE_MS,
  );
});
