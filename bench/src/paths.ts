import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent, type RequestOptions } from "node:https";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
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
import { createLogger } from "@ondemand-eks/runtime";
import { freePort, jobScheduledEvent } from "@ondemand-eks/testenv";
import type { InCluster } from "./in-cluster.js";
import type { Fire } from "./load.js";
import {
  type CliProcess,
  floorScript,
  startCli,
  startNode,
  untilLine,
  waitReady,
} from "./processes.js";

/** One way an event becomes a Job, ready to be loaded. */
export interface Path {
  readonly name: "direct" | "http" | "sqs" | "lambda" | "http-floor" | "sqs-floor";
  readonly fire: Fire;
  /** The adapter's own process, where it has one. */
  readonly pid?: number;
  /** Peak RSS of the adapter's own process, where it has one. */
  readonly peakRssMb?: () => number;
  /**
   * Resolves once what the last run left behind is done (an SQS path: every message
   * deleted), so that it does not weigh on the next path's run.
   */
  settle?(): Promise<void>;
  stop(): Promise<void>;
}

/** Where the paths send their Jobs and events. */
export interface Servers {
  readonly kubeconfig: string;
  /** How the adapters' processes reach the cluster as in a pod; else with `kubeconfig`. */
  readonly inCluster?: InCluster;
  readonly sqsEndpoint: string;
  /** The processes whose CPU time is counted: this one, kube-apiserver, etcd, moto. */
  readonly pids: Readonly<Record<string, number>>;
}

const AWS_TEST_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "AKIDBENCH",
  AWS_SECRET_ACCESS_KEY: "bench",
  AWS_REGION: "us-east-1",
};

/** The adapters' flags for reaching the cluster. */
const clusterFlags = (servers: Servers) =>
  servers.inCluster ? ["--in-cluster"] : ["--kubeconfig", servers.kubeconfig];

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

/** More of a webhook server's command line and environment (the attack: as deployed). */
export interface HttpPathOptions {
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/** `ondemand-eks serve http`, in its own process, sent signed webhooks (the signature checked). */
export async function httpPath(
  servers: Servers,
  options: HttpPathOptions = {},
): Promise<Path & { port: number }> {
  const token = randomBytes(24).toString("hex");
  const port = await freePort();
  const server = startCli(
    [
      "serve",
      "http",
      ...clusterFlags(servers),
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      ...(options.args ?? []),
    ],
    { BUILDKITE_WEBHOOK_TOKEN: token, ...servers.inCluster?.env, ...options.env },
    servers.inCluster?.wrap,
  );
  await waitReady(`http://127.0.0.1:${port}/readyz`, server);
  return { ...webhookPath("http", port, token, server), port };
}

/** The webhook path's floor: the same webhooks to a process that only answers 202. */
export async function httpFloorPath(): Promise<Path> {
  const port = await freePort();
  const server = startNode(floorScript("http-floor"), [String(port)], {});
  await waitReady(`http://127.0.0.1:${port}/`, server);
  return webhookPath("http-floor", port, randomBytes(24).toString("hex"), server);
}

function webhookPath(
  name: "http" | "http-floor",
  port: number,
  token: string,
  server: CliProcess,
): Path {
  // Buildkite sends from its own machines; here the sender shares the two cores, so it is
  // the cheapest there is: node:http over kept-alive connections. fetch() cost about
  // 1.7 ms of CPU per webhook, nearly as much as the adapter itself.
  const sender = new HttpAgent({ keepAlive: true });
  return {
    name,
    async fire(uuid) {
      const text = body(uuid);
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = createHmac("sha256", token).update(`${timestamp}.${text}`).digest("hex");
      const status = await post(sender, port, text, {
        "content-type": "application/json",
        "x-buildkite-event": "job.scheduled",
        "x-buildkite-signature": `timestamp=${timestamp},signature=${signature}`,
      });
      if (status !== 202) throw new Error(`${name}: status ${status}`);
    },
    pid: server.pid,
    peakRssMb: () => server.peakRssMb(),
    async stop() {
      sender.destroy();
      await server.stop();
    },
  };
}

/** POSTs `text` to 127.0.0.1:`port`/webhook and resolves with the status, body read. */
function post(
  agent: HttpAgent,
  port: number,
  text: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path: "/webhook",
        method: "POST",
        agent,
        headers: { ...headers, "content-length": Buffer.byteLength(text) },
        timeout: 30_000,
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error("http: no answer in 30 s")));
    request.on("error", (error: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed as idle just as this request went out
      // (a race any HTTP client has): sent again, as Node's documentation advises. Should
      // the first copy have arrived after all, the second ends `exists`, also a 202.
      if (request.reusedSocket && error.code === "ECONNRESET") {
        post(agent, port, text, headers).then(resolve, reject);
      } else {
        reject(error);
      }
    });
    request.end(text);
  });
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

/**
 * A running `ondemand-eks consume sqs` (or, for `floor`, the SQS floor's consumer) on a
 * queue of its own, and a wait for each job.
 */
export async function startConsumer(servers: Servers, concurrency: number, floor = false) {
  const sqs = sqsClient(servers);
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `bench-${randomBytes(4).toString("hex")}` }),
  );
  const queueUrl = QueueUrl ?? "";
  const port = await freePort();
  const start = floor
    ? () =>
        startNode(
          floorScript("sqs-floor"),
          [servers.sqsEndpoint, queueUrl, String(concurrency)],
          AWS_TEST_CREDENTIALS,
        )
    : () =>
        startCli(
          [
            "consume",
            "sqs",
            "--queue-url",
            queueUrl,
            "--sqs-endpoint",
            servers.sqsEndpoint,
            ...clusterFlags(servers),
            "--concurrency",
            String(concurrency),
            "--host",
            "127.0.0.1",
            "--port",
            String(port),
          ],
          { ...AWS_TEST_CREDENTIALS, ...servers.inCluster?.env },
          servers.inCluster?.wrap,
        );
  const consumer: CliProcess = start();
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
  if (floor) await untilLine(consumer, (line) => line.ready === true);
  else await waitReady(`http://127.0.0.1:${port}/readyz`, consumer);
  const jobExists = (uuid: string) =>
    done.has(uuid) ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(uuid, resolve));
  return { sqs, queueUrl, consumer, jobExists, done };
}

/**
 * `ondemand-eks consume sqs` in its own process, fed through moto's SQS; or for `floor`,
 * the floor's consumer, which does nothing but receive, report and delete.
 */
export async function sqsPath(servers: Servers, concurrency: number, floor = false): Promise<Path> {
  const { sqs, queueUrl, consumer, jobExists } = await startConsumer(servers, concurrency, floor);
  return {
    name: floor ? "sqs-floor" : "sqs",
    async fire(uuid) {
      const exists = jobExists(uuid);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body(uuid) }));
      await exists;
    },
    pid: consumer.pid,
    peakRssMb: () => consumer.peakRssMb(),
    settle: () => drained(sqs, queueUrl),
    async stop() {
      await consumer.stop();
      sqs.destroy();
    },
  };
}

/**
 * Resolves once the queue holds no message, visible or in flight: the consumer's deletes
 * run after the line the bench waits for, and until they are answered they are moto's
 * work in whatever path runs next. Gives up after `timeoutMs`, saying so.
 */
export async function drained(sqs: SQSClient, queueUrl: string, timeoutMs = 30_000) {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const left =
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    if (left === 0) return;
    if (performance.now() > until) {
      process.stderr.write(`[bench] ${queueUrl}: ${left} messages left after ${timeoutMs} ms\n`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The Lambda function's EventBridge handler, in this process, as Lambda would call it: the
 * function built by `createLambdaFunction` from its variables (the runtime's scheduler, as
 * deployed), called with a Lambda context. Its log lines are formatted as deployed and
 * then dropped, so the bench's own output stays readable.
 */
export async function lambdaPath(servers: Servers): Promise<Path> {
  const fn = await createLambdaFunction(
    { ONDEMAND_EKS_KUBECONFIG: servers.kubeconfig, ONDEMAND_EKS_LIBRARY: bundledLibraryDir() },
    { log: createLogger({ write: () => {} }) },
  );
  return {
    name: "lambda",
    async fire(uuid) {
      const outcome = await fn.eventBridge(jobScheduledEvent({ uuid }), {
        awsRequestId: randomUUID(),
      });
      if (outcome.outcome !== "created") throw new Error(`lambda: ${outcome.outcome}`);
    },
    stop: () => fn.scheduler.close(),
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
