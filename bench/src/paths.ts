import { createHmac, randomBytes } from "node:crypto";
import { Agent, type RequestOptions } from "node:https";
import {
  CreateQueueCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  BatchV1Api,
  createConfiguration,
  KubeConfig,
  ServerConfiguration,
} from "@kubernetes/client-node";
import { createLambdaFunction } from "@ondemand-eks/adapter-lambda/runtime";
import { renderEvent, resolveSettings } from "@ondemand-eks/core";
import { bundledLibraryDir, loadPodLibrary } from "@ondemand-eks/pod-library";
import { freePort, jobScheduledEvent } from "@ondemand-eks/testenv";
import type { Fire } from "./load.js";
import { type CliProcess, startCli, waitReady } from "./processes.js";

/** One way an event becomes a Job, ready to be loaded. */
export interface Path {
  readonly name: "direct" | "http" | "sqs" | "lambda";
  readonly fire: Fire;
  /** Peak RSS of the adapter's own process, where it has one. */
  readonly peakRssMb?: () => number;
  stop(): Promise<void>;
}

/** Where the paths send their Jobs and events. */
export interface Servers {
  readonly kubeconfig: string;
  readonly sqsEndpoint: string;
}

const AWS_TEST_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "AKIDBENCH",
  AWS_SECRET_ACCESS_KEY: "bench",
  AWS_REGION: "us-east-1",
};

const body = (uuid: string) => JSON.stringify(jobScheduledEvent({ uuid }));

/**
 * The limit: the same manifests the adapters would make, created with a bare
 * @kubernetes/client-node client and nothing else (no retries, no checks). The manifest
 * is rendered in the measured call, as in every other path; it costs microseconds.
 */
export async function directPath(servers: Servers): Promise<Path> {
  const config = new KubeConfig();
  config.loadFromFile(servers.kubeconfig);
  // client-node's own request path opens a new TLS connection for every call, which is
  // slower than our submitter; the limit reuses connections, as the submitter does.
  const tls: RequestOptions = {};
  await config.applyToHTTPSOptions(tls);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 64,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
  });
  const batch = new BatchV1Api(
    createConfiguration({
      baseServer: new ServerConfiguration(config.getCurrentCluster()?.server ?? "", {}),
      authMethods: {
        default: {
          getName: () => "bench",
          async applySecurityAuthentication(context) {
            context.setAgent(agent);
            for (const [name, value] of Object.entries(tls.headers ?? {})) {
              context.setHeaderParam(name, String(value));
            }
          },
        },
      },
    }),
  );
  const library = await loadPodLibrary(bundledLibraryDir());
  const settings = resolveSettings({});
  return {
    name: "direct",
    async fire(uuid) {
      const rendered = renderEvent(jobScheduledEvent({ uuid }), {
        settings,
        lookup: (name) => library.get(name),
      });
      if (rendered.kind !== "job") throw new Error(`direct: ${rendered.reason}`);
      await batch.createNamespacedJob({ namespace: settings.namespace, body: rendered.manifest });
    },
    stop: async () => agent.destroy(),
  };
}

/** `ondemand-eks serve http`, in its own process, sent signed webhooks (the signature checked). */
export async function httpPath(servers: Servers): Promise<Path> {
  const token = randomBytes(24).toString("hex");
  const port = await freePort();
  const server = startCli(
    [
      "serve",
      "http",
      "--kubeconfig",
      servers.kubeconfig,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ],
    { BUILDKITE_WEBHOOK_TOKEN: token },
  );
  await waitReady(`http://127.0.0.1:${port}/readyz`, server);
  return {
    name: "http",
    async fire(uuid) {
      const text = body(uuid);
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = createHmac("sha256", token).update(`${timestamp}.${text}`).digest("hex");
      const response = await fetch(`http://127.0.0.1:${port}/webhook`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-buildkite-event": "job.scheduled",
          "x-buildkite-signature": `timestamp=${timestamp},signature=${signature}`,
        },
        body: text,
      });
      await response.arrayBuffer();
      if (response.status !== 202) throw new Error(`http: status ${response.status}`);
    },
    peakRssMb: () => server.peakRssMb(),
    stop: () => server.stop(),
  };
}

/** An SQS client for moto. */
export function sqsClient(servers: Servers): SQSClient {
  return new SQSClient({
    region: "us-east-1",
    endpoint: servers.sqsEndpoint,
    // A call moto never answers is retried instead of stalling the bench.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    credentials: {
      accessKeyId: AWS_TEST_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: AWS_TEST_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    },
  });
}

/** A running `ondemand-eks consume sqs` on a queue of its own, and a wait for each job. */
export async function startConsumer(servers: Servers, concurrency: number) {
  const sqs = sqsClient(servers);
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `bench-${randomBytes(4).toString("hex")}` }),
  );
  const queueUrl = QueueUrl ?? "";
  const port = await freePort();
  const consumer: CliProcess = startCli(
    [
      "consume",
      "sqs",
      "--queue-url",
      queueUrl,
      "--sqs-endpoint",
      servers.sqsEndpoint,
      "--kubeconfig",
      servers.kubeconfig,
      "--concurrency",
      String(concurrency),
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ],
    AWS_TEST_CREDENTIALS,
  );
  // Each job's Job exists once the consumer logs it created (or found it there).
  const waiting = new Map<string, () => void>();
  const done = new Set<string>();
  consumer.onLine((line) => {
    const job = typeof line.job === "string" ? line.job : undefined;
    if (!job || (line.outcome !== "created" && line.outcome !== "exists")) return;
    done.add(job);
    waiting.get(job)?.();
    waiting.delete(job);
  });
  await waitReady(`http://127.0.0.1:${port}/readyz`, consumer);
  const jobExists = (uuid: string) =>
    done.has(uuid) ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(uuid, resolve));
  return { sqs, queueUrl, consumer, jobExists, done };
}

/** `ondemand-eks consume sqs` in its own process, fed through moto's SQS. */
export async function sqsPath(servers: Servers, concurrency: number): Promise<Path> {
  const { sqs, queueUrl, consumer, jobExists } = await startConsumer(servers, concurrency);
  return {
    name: "sqs",
    async fire(uuid) {
      const exists = jobExists(uuid);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body(uuid) }));
      await exists;
    },
    peakRssMb: () => consumer.peakRssMb(),
    async stop() {
      await consumer.stop();
      sqs.destroy();
    },
  };
}

/** The Lambda function's EventBridge handler, in this process, as Lambda would call it. */
export async function lambdaPath(servers: Servers): Promise<Path> {
  const fn = await createLambdaFunction(
    { ONDEMAND_EKS_KUBECONFIG: servers.kubeconfig, ONDEMAND_EKS_LIBRARY: bundledLibraryDir() },
    { write: () => {} },
  );
  return {
    name: "lambda",
    async fire(uuid) {
      const outcome = await fn.eventBridge(jobScheduledEvent({ uuid }));
      if (outcome.outcome !== "created") throw new Error(`lambda: ${outcome.outcome}`);
    },
    stop: async () => {},
  };
}

/** Sends `uuids` to a queue in batches of ten, several batches at once. */
export async function sendAll(sqs: SQSClient, queueUrl: string, uuids: readonly string[]) {
  const batches: string[][] = [];
  for (let i = 0; i < uuids.length; i += 10) batches.push(uuids.slice(i, i + 10));
  const sender = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      const { Failed } = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((uuid, n) => ({ Id: String(n), MessageBody: body(uuid) })),
        }),
      );
      // A batch can succeed in part: the entries it refused are sent again, or the bench
      // would count events that never reached the queue as lost.
      const refused = (Failed ?? []).map((entry) => batch[Number(entry.Id)] as string);
      if (refused.length > 0) {
        batches.push(refused);
        process.stderr.write(
          `[bench] SQS refused ${refused.length} entries (${Failed?.[0]?.Code}: ${Failed?.[0]?.Message}); sending them again\n`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, sender));
}
