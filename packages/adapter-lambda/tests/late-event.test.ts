import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createLambdaFunction, type LambdaFunction } from "@ondemand-eks/adapter-lambda/runtime";
import { StacksClient } from "@ondemand-eks/controller";
import { createLogger } from "@ondemand-eks/runtime";
import {
  type BuildkiteEmulator,
  type JobScheduledEvent,
  skipUnlessCi,
  startBuildkiteEmulator,
  startLambda,
  startMoto,
  startTestControlPlane,
  type TestRun,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_DIR, jobsFor } from "./lambda-helpers.js";

// The event function's check of a late event in Buildkite: built from its variables by
// the runtime, on this file's control plane, with the Buildkite emulator as Buildkite.
// The stack it asks through, ondemand-eks-default, is registered here as the controller
// would. Events are the ones the emulator sent when it scheduled each job, handed over
// late: a redelivery.

const CLUSTER_TOKEN = `bkct_${randomUUID().replaceAll("-", "")}`;
const CREDENTIALS = { accessKeyId: "AKIDLATEEVENTS", secretAccessKey: "late-events-test" };
const PODS = fileURLToPath(new URL("../../../pods", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const plane: TestRun = await startTestControlPlane("lambda-late-events", {
  controllerManager: false,
});
/** Each job's "Job Scheduled" event, as its EventBridge rule got it. */
const sent = new Map<string, JobScheduledEvent>();
const buildkite: BuildkiteEmulator = await startBuildkiteEmulator({
  agentToken: `agent-${randomUUID()}`,
  clusterToken: CLUSTER_TOKEN,
  deliverTo: [
    {
      kind: "eventbridge",
      send: async (event) => {
        sent.set(event.detail.job.uuid, event);
      },
    },
  ],
});
const aws = await skipUnlessCi(() => startMoto("lambda-late-events"));
afterAll(async () => {
  await buildkite.close();
  await aws.value?.stop();
  await plane.teardown();
});

/** The function on this file's cluster and Buildkite, its log lines kept; `env` adds to it. */
async function eventFunction(env: Record<string, string>) {
  const lines: Record<string, unknown>[] = [];
  const fn = await createLambdaFunction(
    {
      ONDEMAND_EKS_KUBECONFIG: plane.state?.kubeconfig,
      ONDEMAND_EKS_LIBRARY: PODS,
      ONDEMAND_EKS_BUILDKITE_ENDPOINT: buildkite.url,
      ONDEMAND_EKS_STALE_EVENT_SECONDS: "1",
      ...env,
    },
    { log: createLogger({ write: (line) => lines.push(JSON.parse(line)) }) },
  );
  return { fn, lines };
}

/** A job Buildkite scheduled, optionally cancelled, and its event once it is late (> 1 s). */
async function lateEvent(options: { cancelled: boolean }) {
  const id = buildkite.createJob({ command: "echo late", queue: "default" });
  if (options.cancelled) buildkite.cancel(id);
  await buildkite.deliveries();
  await sleep(1_100);
  const event = sent.get(id);
  if (!event) throw new Error(`the emulator sent no event for ${id}`);
  return { id, event };
}

const asksForStates = () =>
  buildkite.requests().filter((request) => JSON.stringify(request).includes("get-states")).length;

describeWith(plane.info, "Lambda event function: a late event checked in Buildkite", () => {
  let withToken: LambdaFunction;
  beforeAll(async () => {
    await new StacksClient({ endpoint: buildkite.url, token: CLUSTER_TOKEN }).register({
      key: "ondemand-eks-default",
      queueKey: "default",
    });
    withToken = (await eventFunction({ BUILDKITE_CLUSTER_TOKEN: CLUSTER_TOKEN })).fn;
  });
  afterAll(() => withToken?.scheduler.close());

  it("EventBridge: a late event of a job cancelled in Buildkite returns, with no Job", async () => {
    // Prepare
    const { id, event } = await lateEvent({ cancelled: true });
    const asked = asksForStates();
    // Act
    const outcome = await withToken.eventBridge(event, { awsRequestId: randomUUID() });
    // Assess
    expect(outcome).toMatchObject({
      outcome: "ignored",
      reason: expect.stringContaining("canceled"),
    });
    expect(asksForStates()).toBe(asked + 1);
    expect(await jobsFor(plane.state?.kubeconfig, id)).toHaveLength(0);
  });

  it("SQS: the same message is acknowledged (not returned), with no Job", async () => {
    const { id, event } = await lateEvent({ cancelled: true });
    const messageId = randomUUID();
    const response = await withToken.sqs({ Records: [{ messageId, body: JSON.stringify(event) }] });
    expect(response.batchItemFailures).toEqual([]);
    expect(await jobsFor(plane.state?.kubeconfig, id)).toHaveLength(0);
  });

  it("a late event of a job still scheduled makes its Job", async () => {
    const { id, event } = await lateEvent({ cancelled: false });
    expect(await withToken.eventBridge(event)).toMatchObject({ outcome: "created" });
    expect(await jobsFor(plane.state?.kubeconfig, id)).toHaveLength(1);
  });

  it("a timely event is not checked: no Buildkite call", async () => {
    // Prepare: a cancelled job, but its event is younger than the threshold (60 s).
    const { fn } = await eventFunction({
      BUILDKITE_CLUSTER_TOKEN: CLUSTER_TOKEN,
      ONDEMAND_EKS_STALE_EVENT_SECONDS: "60",
    });
    try {
      const { id, event } = await lateEvent({ cancelled: true });
      const asked = asksForStates();
      // Act
      const outcome = await fn.eventBridge(event);
      // Assess
      expect(outcome).toMatchObject({ outcome: "created" });
      expect(asksForStates()).toBe(asked);
      expect(await jobsFor(plane.state?.kubeconfig, id)).toHaveLength(1);
    } finally {
      await fn.scheduler.close();
    }
  });

  it("without a token, no Buildkite call is made: the late event makes its Job", async () => {
    // Prepare
    const { fn } = await eventFunction({});
    try {
      const { id, event } = await lateEvent({ cancelled: true });
      const before = buildkite.requests().length;
      // Act
      const outcome = await fn.eventBridge(event);
      // Assess
      expect(fn.config.lateEvents).toBeUndefined();
      expect(outcome).toMatchObject({ outcome: "created" });
      expect(buildkite.requests()).toHaveLength(before);
      expect(await jobsFor(plane.state?.kubeconfig, id)).toHaveLength(1);
    } finally {
      await fn.scheduler.close();
    }
  });
});

describeWith(
  [plane.info, aws],
  "the deployed bundle under the Lambda emulator, its token from Secrets Manager",
  () => {
    it("index.eventBridge: a late event of a cancelled job makes no Job", async () => {
      // Prepare: the token in moto's Secrets Manager, and the function as deployed.
      const secrets = new SecretsManagerClient({
        region: "us-east-1",
        endpoint: aws.value?.endpoint ?? "",
        credentials: CREDENTIALS,
      });
      const secret = await secrets.send(
        new CreateSecretCommand({ Name: `buildkite/${randomUUID()}`, SecretString: CLUSTER_TOKEN }),
      );
      await new StacksClient({ endpoint: buildkite.url, token: CLUSTER_TOKEN }).register({
        key: "ondemand-eks-default",
        queueKey: "default",
      });
      const fn = await startLambda("late-events-eventbridge", {
        handlerDir: BUNDLE_DIR,
        handler: "index.eventBridge",
        env: {
          ONDEMAND_EKS_KUBECONFIG: plane.state?.kubeconfig ?? "",
          ONDEMAND_EKS_BUILDKITE_ENDPOINT: buildkite.url,
          ONDEMAND_EKS_STALE_EVENT_SECONDS: "1",
          ONDEMAND_EKS_CLUSTER_TOKEN_ARN: secret.ARN as string,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.value?.endpoint ?? "",
          AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        },
      });
      try {
        const { id, event } = await lateEvent({ cancelled: true });
        // Act
        const { status, body } = await fn.invoke(event);
        // Assess
        expect(status).toBe(200);
        expect(body).toMatchObject({ outcome: "ignored" });
        expect(await jobsFor(plane.state?.kubeconfig, id)).toHaveLength(0);
        expect(fn.logs()).not.toContain(CLUSTER_TOKEN);
      } finally {
        await fn.stop();
      }
    });
  },
);

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("Lambda event function: a token that cannot be read", () => {
  it("fails init within its deadline, naming the ARN and never a value", async () => {
    // Prepare: Secrets Manager where nothing answers.
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:buildkite/token-AbC123";
    const started = Date.now();
    // Act
    const error = await createLambdaFunction({
      ONDEMAND_EKS_KUBECONFIG: "/nonexistent/kubeconfig",
      ONDEMAND_EKS_LIBRARY: PODS,
      ONDEMAND_EKS_CLUSTER_TOKEN_ARN: arn,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${await closedPort()}`,
      AWS_ACCESS_KEY_ID: "AKIDLATE",
      AWS_SECRET_ACCESS_KEY: "late-test",
    }).catch((thrown: unknown) => thrown);
    // Assess
    expect(error).toMatchObject({ name: "ClusterTokenUnavailableError" });
    expect(String((error as Error).message)).toContain(arn);
    expect(Date.now() - started).toBeLessThan(6_000);
  });
});
