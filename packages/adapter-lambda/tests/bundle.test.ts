import { randomUUID } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  type EmulatedLambda,
  jobScheduledDetail,
  jobScheduledEvent,
  skipUnlessCi,
  startLambda,
  startMoto,
  startTestControlPlane,
  type TestRun,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_DIR, jobsFor } from "./lambda-helpers.js";

/** What a function's code may weigh, and stay quick to load on a cold start. */
const SIZE_BUDGET_BYTES = 3 * 1024 * 1024;

/** The modules Lambda loads by handler name: `index.eventBridge`, `index.sqs`, `controller.handler`. */
const ENTRIES = ["index.mjs", "controller.mjs"];

/** The chunks `entry` imports statically, followed; dynamic import()s are not. */
async function loadedAtInit(entry: string): Promise<Set<string>> {
  const loaded = new Set<string>();
  const visit = async (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    const text = await readFile(join(BUNDLE_DIR, file), "utf8");
    for (const match of text.matchAll(
      /(?:^|[;}\s])import\s*(?:[\w{},*\s$]+from\s*)?"\.\/([\w.-]+\.mjs)"/g,
    )) {
      await visit(match[1] as string);
    }
  };
  await visit(entry);
  return loaded;
}

/** Whether any of `files` holds `marker`. */
async function anyHolds(files: Iterable<string>, marker: string): Promise<boolean> {
  for (const file of files) {
    if ((await readFile(join(BUNDLE_DIR, file), "utf8")).includes(marker)) return true;
  }
  return false;
}

/** Bytes of every module of the function (its pods/ not counted). */
async function bundleBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const name of await readdir(dir)) {
    if (name.endsWith(".mjs")) bytes += (await stat(join(dir, name))).size;
  }
  return bytes;
}

describe("the Lambda bundle", () => {
  it(`is under its ${SIZE_BUDGET_BYTES / 1024 / 1024} MiB budget, all chunks counted`, async () => {
    expect(await bundleBytes(BUNDLE_DIR)).toBeLessThan(SIZE_BUDGET_BYTES);
  });

  it("holds only chunks the function can load (unreachable ones are pruned at build)", async () => {
    // Every chunk an entry reaches through static or dynamic imports.
    const reachable = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (reachable.has(file)) return;
      reachable.add(file);
      const text = await readFile(join(BUNDLE_DIR, file), "utf8");
      for (const match of text.matchAll(/"\.\/([\w.-]+\.mjs)"/g)) await visit(match[1] as string);
    };
    for (const entry of ENTRIES) await visit(entry);
    const chunks = (await readdir(BUNDLE_DIR)).filter((name) => name.endsWith(".mjs"));
    expect(chunks.filter((name) => !reachable.has(name))).toEqual([]);
    // The lazily loaded ones are among them.
    expect(chunks.some((name) => name.startsWith("client-node-"))).toBe(true);
  });

  it("keeps client-node and the S3 client out of what an EKS function loads at init", async () => {
    const loaded = await loadedAtInit("index.mjs");
    const chunks = (await readdir(BUNDLE_DIR)).filter((name) => name.endsWith(".mjs"));
    const kubeconfigChunk = chunks.find((name) => name.startsWith("client-node-"));
    const s3Chunk = chunks.find((name) => name.startsWith("s3-library-"));
    expect(kubeconfigChunk).toBeDefined();
    expect(s3Chunk).toBeDefined();
    expect(loaded.has(kubeconfigChunk as string)).toBe(false);
    expect(loaded.has(s3Chunk as string)).toBe(false);
    let staticBytes = 0;
    for (const file of loaded) {
      staticBytes += (await stat(join(BUNDLE_DIR, file))).size;
      const text = await readFile(join(BUNDLE_DIR, file), "utf8");
      // prom-client (metrics are the command's) and the EKS client (DescribeCluster only
      // when the endpoint and CA are not given) are never loaded at init.
      expect(text, file).not.toContain("collectDefaultMetrics");
      expect(text, file).not.toContain(`"DescribeCluster"`);
    }
    // Followed for real: zod and the AWS SDK alone are more than index.mjs.
    expect(staticBytes).toBeGreaterThan(400 * 1024);
    expect(staticBytes).toBeLessThan(1.2 * 1024 * 1024);
  });

  it("the event handlers and the scheduled controller load nothing of each other at init", async () => {
    // Prepare
    const events = await loadedAtInit("index.mjs");
    const controller = await loadedAtInit("controller.mjs");
    // Assess: markers of each entry's own code, and of the token clients.
    // The controller's log line, quoted: the settings' descriptions (which the event
    // function reads for its late-event check) say "stacks registered" too.
    expect(await anyHolds(events, `"stacks registered"`)).toBe(false);
    expect(await anyHolds(events, "SecretsManagerClient")).toBe(false);
    // The late-event check (and its Buildkite client) is loaded only given a cluster token.
    expect(await anyHolds(events, "get-states")).toBe(false);
    expect(await anyHolds(controller, `"stacks registered"`)).toBe(true);
    expect(await anyHolds(controller, "batchItemFailures")).toBe(false);
    // The Secrets Manager and SSM clients are chunks of their own, loaded by the ARN's service.
    const all = (await readdir(BUNDLE_DIR)).filter((name) => name.endsWith(".mjs"));
    expect(await anyHolds(all, `"GetSecretValueRequest"`)).toBe(true);
    expect(await anyHolds(all, `"GetParameterRequest"`)).toBe(true);
    expect(await anyHolds(controller, `"GetSecretValueRequest"`)).toBe(false);
    expect(await anyHolds(controller, `"GetParameterRequest"`)).toBe(false);
    expect(await anyHolds(controller, "collectDefaultMetrics")).toBe(false);
  });
});

// Servers of this file's own, so that a missing Go or Python is reported as skipped
// (and fails under CI=true).
const plane: TestRun = await startTestControlPlane("lambda-bundle", { controllerManager: false });
const aws = await skipUnlessCi(() => startMoto("lambda-bundle"));
afterAll(async () => {
  await aws.value?.stop();
  await plane.teardown();
});

const detail = (uuid: string, rules?: string[]) =>
  jobScheduledDetail({ uuid, ...(rules ? { rules } : {}) });
const event = (uuid: string, rules?: string[]) =>
  jobScheduledEvent({ uuid, ...(rules ? { rules } : {}) });

/** The emulator needs Go, as the control plane does: these run only where it is there. */
function lambda(name: string, handler: string, env: Record<string, string> = {}) {
  return startLambda(name, {
    handlerDir: BUNDLE_DIR,
    handler,
    env: { ONDEMAND_EKS_KUBECONFIG: plane.state?.kubeconfig ?? "", ...env },
  });
}

describeWith([plane.info, aws], "the bundle under the Lambda Runtime Interface Emulator", () => {
  let sqs: EmulatedLambda;
  let eventBridge: EmulatedLambda;
  beforeAll(async () => {
    sqs = await lambda("bundle-sqs", "index.sqs");
    eventBridge = await lambda("bundle-eventbridge", "index.eventBridge");
  });
  afterAll(async () => {
    await sqs?.stop();
    await eventBridge?.stop();
  });

  it("SQS batch: Jobs for whole events and bare details; only the bad message returns", async () => {
    const [whole, bare] = [randomUUID(), randomUUID()];
    const { status, body } = await sqs.invoke({
      Records: [
        { messageId: "m1", body: JSON.stringify(event(whole)) },
        { messageId: "m2", body: JSON.stringify(detail(bare)) },
        { messageId: "m3", body: JSON.stringify(event(whole)) },
        { messageId: "m4", body: "{not json" },
        { messageId: "m5", body: JSON.stringify(event(randomUUID(), ["queue=elsewhere"])) },
      ],
    });
    expect(status).toBe(200);
    expect(body).toEqual({ batchItemFailures: [{ itemIdentifier: "m4" }] });
    expect(await jobsFor(plane.state?.kubeconfig, whole)).toHaveLength(1);
    expect(await jobsFor(plane.state?.kubeconfig, bare)).toHaveLength(1);
    // The cold start was measured by the emulator (reported, not asserted: tests never time).
    expect(sqs.initDurationMs()).toBeGreaterThan(0);
    // One structured line per event, with the job, its outcome, and the ids that tie it to
    // the message and the invocation.
    const lines = sqs
      .logs()
      .split("\n")
      .filter((line) => line.startsWith("{") && line.includes('"msg":"event"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const wholeLines = lines.filter((l) => l.job === whole);
    expect(wholeLines.map((l) => l.outcome)).toEqual(expect.arrayContaining(["created", "exists"]));
    expect(wholeLines.map((l) => l.messageId).sort()).toEqual(["m1", "m3"]);
    for (const line of wholeLines) {
      expect(line).toMatchObject({
        level: "info",
        awsRequestId: expect.any(String),
        receiveCount: 1,
      });
    }
  });

  it("EventBridge: created, then exists for the same event; an invalid one is an error for the destination", async () => {
    const uuid = randomUUID();
    const first = await eventBridge.invoke(event(uuid));
    expect(first.body).toMatchObject({ outcome: "created", job: uuid });
    const again = await eventBridge.invoke(event(uuid));
    expect(again.body).toMatchObject({ outcome: "exists", job: uuid });
    expect(await jobsFor(plane.state?.kubeconfig, uuid)).toHaveLength(1);
    const bad = await eventBridge.invoke(event(randomUUID(), ["queue=default", "pod=no-such-pod"]));
    // The handler's ScheduleFailedError, which Lambda reports by name (code SCHEDULE_FAILED).
    expect(bad.body).toMatchObject({ errorType: "ScheduleFailedError" });
    expect(JSON.stringify(bad.body)).toContain("no-such-pod");
  });

  it("a configuration problem fails init with the variable named, and no event is taken", async () => {
    const broken = await lambda("bundle-broken", "index.sqs", { ONDEMAND_EKS_QUEUES: "a b" });
    try {
      const { status, raw } = await broken.invoke({ Records: [] });
      expect(status).not.toBe(200);
      expect(`${raw}\n${broken.logs()}`).toContain("ONDEMAND_EKS_QUEUES");
      expect(`${raw}\n${broken.logs()}`).toContain('"errorType":"InvalidSettingsError"');
    } finally {
      await broken.stop();
    }
  });

  // Lambda reports an init error by its message: InvalidSettingsError's lists every problem.
  it("a failed init names every problem, each by its variable", async () => {
    const broken = await lambda("bundle-broken-twice", "index.sqs", {
      ONDEMAND_EKS_QUEUES: "a b",
      ONDEMAND_EKS_SQS_CONCURRENCY: "0",
    });
    try {
      const { raw } = await broken.invoke({ Records: [] });
      expect(`${raw}\n${broken.logs()}`).toContain("ONDEMAND_EKS_QUEUES");
      expect(`${raw}\n${broken.logs()}`).toContain("ONDEMAND_EKS_SQS_CONCURRENCY");
    } finally {
      await broken.stop();
    }
  });

  it("reads the pod library from an S3 prefix (moto)", async () => {
    const endpoint = aws.value?.endpoint ?? "";
    const bucket = `pods-${randomUUID().slice(0, 8)}`;
    const s3 = new S3Client({
      region: "us-east-1",
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: "AKIDBUNDLE", secretAccessKey: "bundle-test" },
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "pods/default.yaml",
        Body: "name: default\nmode: one-shot\nagent:\n  image: buildkite/agent:3\n",
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "pods/from-s3.yaml",
        Body: "name: from-s3\nextends: default\nagent:\n  image: buildkite/agent:3.99\n",
      }),
    );
    const fromS3 = await lambda("bundle-s3", "index.eventBridge", {
      ONDEMAND_EKS_LIBRARY: `s3://${bucket}/pods/`,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: "AKIDBUNDLE",
      AWS_SECRET_ACCESS_KEY: "bundle-test",
    });
    try {
      const uuid = randomUUID();
      const { body } = await fromS3.invoke(event(uuid, ["queue=default", "pod=from-s3"]));
      expect(body).toMatchObject({ outcome: "created", podDefinition: "from-s3" });
      const [job] = await jobsFor(plane.state?.kubeconfig, uuid);
      expect(job?.spec?.template.spec?.containers.map((c) => c.image)).toContain(
        "buildkite/agent:3.99",
      );
    } finally {
      await fromS3.stop();
    }
  });
});
