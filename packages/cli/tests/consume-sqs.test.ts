import { randomUUID } from "node:crypto";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type CliIo, processIo, run } from "@ondemand-eks/cli";
import { skipUnlessCi, startMoto } from "@ondemand-eks/testenv";
import { controlPlane, describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { jobExists, kubeconfigPath } from "./cluster.js";
import { cli } from "./helpers.js";

const aws = await skipUnlessCi(() => startMoto("cli-consume-sqs"));
afterAll(() => aws.value?.stop());
const env = {
  AWS_ACCESS_KEY_ID: "AKIDCLISQS",
  AWS_SECRET_ACCESS_KEY: "s",
  AWS_REGION: "us-east-1",
};

describe("ondemand-eks consume sqs: settings", () => {
  it("names a bad queue URL and a bad number, both at once (a usage error: they are flags)", async () => {
    const bad = await cli(["consume", "sqs", "--queue-url", "my-queue", "--wait", "30"], { env });
    expect(bad).toEqual({
      status: 2,
      stdout: "",
      stderr: [
        "ondemand-eks: error: 2 problems:",
        '  --queue-url: expected an http:// or https:// URL, received "my-queue"',
        '  --wait: expected a whole number of seconds from 0 to 20, received "30"',
        "",
      ].join("\n"),
    });
  });

  it("requires a queue URL and a region, and reads its settings from the environment", async () => {
    const missing = await cli(["consume", "sqs"], { env: {} });
    expect(missing).toEqual({
      status: 1,
      stdout: "",
      stderr: [
        "ondemand-eks: error: 2 problems:",
        "  --region: required: AWS region of the EKS cluster, the SQS queue and an S3 library (or set AWS_REGION or AWS_DEFAULT_REGION)",
        "  --queue-url: required: the SQS queue's URL (or set ONDEMAND_EKS_SQS_QUEUE_URL)",
        "",
      ].join("\n"),
    });
    const fromEnv = await cli(["consume", "sqs"], {
      env: {
        ...env,
        ONDEMAND_EKS_SQS_QUEUE_URL: "http://127.0.0.1:1/000000000000/q",
        ONDEMAND_EKS_SQS_CONCURRENCY: "0",
        ONDEMAND_EKS_SQS_VISIBILITY_TIMEOUT_SECONDS: "1",
      },
    });
    expect(fromEnv.stderr).toBe(
      [
        "ondemand-eks: error: 2 problems:",
        '  ONDEMAND_EKS_SQS_CONCURRENCY: expected a whole number from 1 to 100, received "0"',
        '  ONDEMAND_EKS_SQS_VISIBILITY_TIMEOUT_SECONDS: expected a whole number of seconds from 2 to 43200, received "1"',
        "",
      ].join("\n"),
    );
  });
});

describeWith([controlPlane(), aws], "ondemand-eks consume sqs", () => {
  it("schedules a queued event, serves health and metrics, and stops on request", async () => {
    const endpoint = aws.value?.endpoint ?? "";
    const sqs = new SQSClient({
      region: "us-east-1",
      endpoint,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      },
    });
    const { QueueUrl = "" } = await sqs.send(
      new CreateQueueCommand({ QueueName: `cli-${randomUUID().slice(0, 8)}` }),
    );
    let stdout = "";
    let announce: (url: string) => void = () => {};
    const ops = new Promise<string>((resolve) => {
      announce = resolve;
    });
    const controller = new AbortController();
    const io: CliIo = {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        const url = /health and metrics on (\S+)/.exec(text)?.[1];
        if (url) announce(url);
      },
      readStdin: async () => "",
      readFile: processIo().readFile,
      env,
      shutdown: () => controller.signal,
    };
    const done = run(
      [
        "consume",
        "sqs",
        "--queue-url",
        QueueUrl,
        "--sqs-endpoint",
        endpoint,
        "--wait",
        "1",
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--kubeconfig",
        kubeconfigPath(),
      ],
      io,
    );
    const url = await ops;
    try {
      const uuid = randomUUID();
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: JSON.stringify({
            version: 1,
            job: {
              uuid,
              type: "script",
              agent_query_rules: ["queue=default"],
              state: "scheduled",
            },
            build: { uuid: randomUUID(), number: 1 },
            pipeline: { uuid: randomUUID(), slug: "cli" },
            organization: { uuid: randomUUID(), slug: "acme" },
          }),
        }),
      );
      for (let i = 0; i < 300 && !stdout.includes(`"job":"${uuid}"`); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const line = stdout
        .split("\n")
        .filter((text) => text.includes(`"job":"${uuid}"`))
        .map((text) => JSON.parse(text) as Record<string, unknown>);
      expect(line).toEqual([
        expect.objectContaining({
          level: "info",
          msg: "event",
          outcome: "created",
          job: uuid,
          messageId: expect.any(String),
          receiveCount: 1,
        }),
      ]);
      expect(await jobExists(`buildkite-${uuid}`)).toBe(true);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(
        /ondemand_eks_events_total\{outcome="created"\} 1/,
      );
    } finally {
      controller.abort();
      expect(await done).toBe(0);
      sqs.destroy();
    }
  });
});
