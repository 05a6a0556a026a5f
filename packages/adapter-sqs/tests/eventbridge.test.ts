import { randomUUID } from "node:crypto";
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { SqsConsumer } from "@ondemand-eks/adapter-sqs";
import {
  skipUnlessCi,
  startMoto,
  startTestControlPlane,
  type TestRun,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, expect, it } from "vitest";
import { testScheduler } from "./helpers.js";

const plane: TestRun = await startTestControlPlane("sqs-eventbridge", { controllerManager: false });
const aws = await skipUnlessCi(() => startMoto("sqs-eventbridge"));
afterAll(async () => {
  await aws.value?.stop();
  await plane.teardown();
});

const config = {
  region: "us-east-1",
  endpoint: aws.value?.endpoint ?? "http://127.0.0.1:1",
  credentials: { accessKeyId: "AKIDEVENTS", secretAccessKey: "events" },
};
const SOURCE = "aws.partner/buildkite.com/acme/0190a3bf-aaaa-4bbb-8ccc-dddddddddddd";

function jobDetail(uuid: string, queue: string) {
  return JSON.stringify({
    version: 1,
    job: { uuid, type: "script", agent_query_rules: [`queue=${queue}`], state: "scheduled" },
    build: { uuid: randomUUID(), number: 1, branch: "main" },
    pipeline: { uuid: randomUUID(), slug: "events" },
    organization: { uuid: randomUUID(), slug: "acme" },
  });
}

describeWith([plane.info, aws], "EventBridge -> SQS -> consumer", () => {
  it("schedules exactly the events the rule matches: Job Scheduled on one queue", async () => {
    const sqs = new SQSClient(config);
    const events = new EventBridgeClient(config);
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: `events-${randomUUID().slice(0, 8)}` }),
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    // The rule a platform team writes: this fleet's queue only, Job Scheduled only.
    await events.send(
      new PutRuleCommand({
        Name: "buildkite-default-queue",
        EventPattern: JSON.stringify({
          source: [{ prefix: "aws.partner/buildkite.com" }],
          "detail-type": ["Job Scheduled"],
          detail: { job: { agent_query_rules: ["queue=default"] } },
        }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: "buildkite-default-queue",
        Targets: [{ Id: "sqs", Arn: Attributes!.QueueArn! }],
      }),
    );

    const matching = Array.from({ length: 5 }, () => randomUUID());
    const otherQueue = Array.from({ length: 3 }, () => randomUUID());
    const finished = randomUUID();
    await events.send(
      new PutEventsCommand({
        Entries: [
          ...matching.map((uuid) => ({
            Source: SOURCE,
            DetailType: "Job Scheduled",
            Detail: jobDetail(uuid, "default"),
          })),
          ...otherQueue.map((uuid) => ({
            Source: SOURCE,
            DetailType: "Job Scheduled",
            Detail: jobDetail(uuid, "deploy"),
          })),
          { Source: SOURCE, DetailType: "Job Finished", Detail: jobDetail(finished, "default") },
        ],
      }),
    );

    const { scheduler, lines } = await testScheduler(plane.state?.kubeconfig ?? "");
    const outcomes = () => lines.filter((line) => line.msg === "event");
    const consumer = new SqsConsumer({
      client: sqs,
      queueUrl: QueueUrl!,
      waitTimeSeconds: 1,
      log: scheduler.log,
      schedule: (input, context) => scheduler.schedule(input, context),
    });
    consumer.start();
    // PutEvents delivered to the queue before the consumer started; wait until the queue
    // is empty and nothing is in flight, so any event delivered by mistake was seen too.
    const left = async () => {
      const { Attributes: counts } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return (
        Number(counts?.ApproximateNumberOfMessages ?? 0) +
        Number(counts?.ApproximateNumberOfMessagesNotVisible ?? 0) +
        consumer.inFlight
      );
    };
    try {
      for (let i = 0; i < 300 && (outcomes().length < matching.length || (await left()) > 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await consumer.stop(5_000);
      await scheduler.close();
    }
    expect(outcomes().map((o) => o.outcome)).toEqual(Array(5).fill("created"));
    expect(
      outcomes()
        .map((o) => o.job as string)
        .sort(),
    ).toEqual([...matching].sort());
  });
});
