import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";

/**
 * The floor of the SQS path: a consumer that does with each message only what
 * `ondemand-eks consume sqs` does with moto (one long poll at a time for up to 10
 * messages, a JSON line per message naming its job, then DeleteMessage), and no
 * Kubernetes. What the bench measures through it is moto's part of the SQS path.
 *
 *   node sqs-floor.js <endpoint> <queue-url> <concurrency>
 */
const [endpoint, queueUrl, concurrencyText] = process.argv.slice(2) as [string, string, string];
const concurrency = Number(concurrencyText);
const client = new SQSClient({
  endpoint,
  region: process.env.AWS_REGION ?? "us-east-1",
  requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
});
const stopping = new AbortController();
process.on("SIGTERM", () => stopping.abort());
const inFlight = new Set<Promise<void>>();

async function handle(message: Message): Promise<void> {
  let job: unknown;
  try {
    job = (JSON.parse(message.Body ?? "") as { detail?: { job?: { uuid?: unknown } } }).detail?.job
      ?.uuid;
  } catch {
    job = undefined;
  }
  process.stdout.write(`${JSON.stringify({ msg: "message", job, outcome: "created" })}\n`);
  await client.send(
    new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
  );
}

process.stdout.write(`{"ready":true}\n`);
while (!stopping.signal.aborted) {
  const room = concurrency - inFlight.size;
  if (room <= 0) {
    await Promise.race(inFlight);
    continue;
  }
  let messages: Message[] = [];
  try {
    const answer = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, room),
        WaitTimeSeconds: 20,
        VisibilityTimeout: 60,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
      { abortSignal: stopping.signal },
    );
    messages = answer.Messages ?? [];
  } catch (error) {
    if (stopping.signal.aborted) break;
    process.stderr.write(`receive failed: ${(error as Error).message}\n`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  for (const message of messages) {
    const work: Promise<void> = handle(message)
      .catch((error: Error) => {
        process.stderr.write(`delete failed: ${error.message}\n`);
      })
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  }
}
await Promise.allSettled(inFlight);
client.destroy();
