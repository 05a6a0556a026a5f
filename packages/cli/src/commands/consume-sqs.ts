import { SQSClient } from "@aws-sdk/client-sqs";
import { createMetrics, startOpsServer } from "@ondemand-eks/adapter-http";
import { SqsConsumer } from "@ondemand-eks/adapter-sqs";
import { schedule } from "@ondemand-eks/core";
import { bundledLibraryDir, loadPodLibrary } from "@ondemand-eks/pod-library";
import { awsCredentials } from "../aws-credentials.js";
import { type ClusterFlags, regionOf, submitterFor } from "../cluster.js";
import { CliError } from "../errors.js";
import { type CliIo, untilShutdown } from "../io.js";
import { wholeNumber } from "../numbers.js";
import { loadCliSettings, type SettingsFlags } from "../settings.js";

export interface ConsumeSqsFlags extends SettingsFlags, ClusterFlags {
  readonly queueUrl: string;
  readonly concurrency: string;
  readonly wait: string;
  readonly visibilityTimeout: string;
  readonly port?: string;
  readonly host: string;
  readonly sqsEndpoint?: string;
}

/** `ondemand-eks consume sqs`: the SQS consumer, with health and metrics, until SIGTERM. */
export async function consumeSqs(flags: ConsumeSqsFlags, io: CliIo): Promise<number> {
  const { settings, library } = await loadCliSettings(flags, io);
  if (!/^https?:\/\/\S+$/.test(flags.queueUrl)) {
    throw new CliError(`--queue-url: expected the queue's URL, received "${flags.queueUrl}"`);
  }
  const concurrency = wholeNumber("--concurrency", flags.concurrency, 1, 100);
  const waitTimeSeconds = wholeNumber("--wait", flags.wait, 0, 20);
  const visibilityTimeoutSeconds = wholeNumber(
    "--visibility-timeout",
    flags.visibilityTimeout,
    2,
    43_200,
  );
  const port = wholeNumber("--port", flags.port ?? io.env.PORT ?? "8080", 0, 65535);
  const pods = await loadPodLibrary(library ?? bundledLibraryDir());
  const submitter = await submitterFor(flags, io);
  const metrics = createMetrics();
  const log = (entry: Record<string, unknown>) =>
    io.stdout(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
  const client = new SQSClient({
    region: regionOf(flags, io),
    credentials: awsCredentials(io),
    // Deadlines on every SQS call: a half-open connection must not stall the consumer.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: (waitTimeSeconds + 10) * 1000 },
    ...(flags.sqsEndpoint ? { endpoint: flags.sqsEndpoint } : {}),
  });
  const consumer = new SqsConsumer({
    client,
    queueUrl: flags.queueUrl,
    concurrency,
    waitTimeSeconds,
    visibilityTimeoutSeconds,
    log,
    onOutcome: (outcome) => {
      metrics.events.inc({ outcome: outcome.outcome });
      metrics.duration.observe({ outcome: outcome.outcome }, outcome.durationMs / 1000);
      if ("attempts" in outcome && outcome.attempts && outcome.attempts > 1) {
        metrics.retries.inc(outcome.attempts - 1);
      }
    },
    schedule: (input) =>
      schedule(input, {
        settings,
        lookup: (name) => pods.get(name),
        submit: (manifest) => submitter.submit(manifest),
      }),
  });
  const ops = await startOpsServer({
    port,
    host: flags.host,
    metrics,
    // Ready while SQS answers and the API server is reachable: a consumer with bad AWS
    // credentials or a deleted queue shows as not ready instead of only logging.
    ready: async () => consumer.receiving && (await submitter.ping()),
  });
  consumer.start();
  io.stderr(`ondemand-eks: consuming ${flags.queueUrl}; health and metrics on ${ops.url}\n`);
  await untilShutdown(io);
  io.stderr("ondemand-eks: shutting down: finishing messages in flight\n");
  await consumer.stop();
  await ops.close();
  submitter.close();
  client.destroy();
  return 0;
}
