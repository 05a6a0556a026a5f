import { SQSClient } from "@aws-sdk/client-sqs";
import { startOpsServer } from "@ondemand-eks/adapter-http";
import { SqsConsumer } from "@ondemand-eks/adapter-sqs";
import {
  awsCredentials,
  createLogger,
  createScheduler,
  RUNTIME_SETTINGS,
} from "@ondemand-eks/runtime";
import { createMetrics } from "@ondemand-eks/runtime/metrics";
import { CLI_SETTINGS } from "../cli-settings.js";
import { type CliIo, untilShutdown } from "../io.js";
import { type CommandFlags, loadCliConfig } from "../settings.js";

/** `ondemand-eks consume sqs`: the SQS consumer on the runtime's scheduler, with health and metrics, until SIGTERM. */
export async function consumeSqs(flags: CommandFlags, io: CliIo): Promise<number> {
  const { scheduler: config, settings } = await loadCliConfig("consume-sqs", flags, io);
  const r = CLI_SETTINGS;
  const queueUrl = settings.get(r.queueUrl);
  const region = settings.get(RUNTIME_SETTINGS.region);
  if (queueUrl === undefined || region === undefined) {
    // Both are `requiredIn` this scope: loading has already reported them missing.
    throw new Error("consume sqs: the queue URL and region were not checked");
  }
  const waitTimeSeconds = settings.get(r.waitSeconds) ?? 20;
  // With a cluster token: a late event's job is checked in Buildkite before its Job is made.
  const { lateEventCheck } = await import("@ondemand-eks/controller");
  const check = await lateEventCheck(settings, config.settings.queues, (path) =>
    io.readFile(path, 64 * 1024),
  );
  const scheduler = await createScheduler(config, {
    env: io.env,
    ...check,
    metrics: createMetrics(),
    log: createLogger({ level: config.logLevel, write: (line) => io.stdout(`${line}\n`) }),
  });
  const client = new SQSClient({
    region,
    credentials: awsCredentials(io.env),
    // Deadlines on every SQS call: a half-open connection must not stall the consumer.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: (waitTimeSeconds + 10) * 1000 },
    ...(settings.get(r.sqsEndpoint) ? { endpoint: settings.get(r.sqsEndpoint) } : {}),
  });
  const consumer = new SqsConsumer({
    client,
    queueUrl,
    concurrency: settings.get(RUNTIME_SETTINGS.concurrency) ?? 10,
    waitTimeSeconds,
    visibilityTimeoutSeconds: settings.get(r.visibilityTimeoutSeconds) ?? 60,
    log: scheduler.log,
    schedule: (input, context) => scheduler.schedule(input, context),
  });
  const ops = await startOpsServer({
    port: settings.get(r.port) ?? 8080,
    host: settings.get(r.host) ?? "::",
    log: scheduler.log,
    ...(scheduler.metrics ? { metrics: scheduler.metrics } : {}),
    // Ready while SQS answers and the API server is reachable: a consumer with bad AWS
    // credentials or a deleted queue shows as not ready instead of only logging.
    ready: async () => consumer.receiving && (await scheduler.ready()),
  });
  consumer.start();
  io.stderr(`ondemand-eks: consuming ${queueUrl}; health and metrics on ${ops.url}\n`);
  await untilShutdown(io);
  io.stderr("ondemand-eks: shutting down: finishing messages in flight\n");
  await consumer.stop();
  await ops.close();
  await scheduler.close();
  client.destroy();
  return 0;
}
