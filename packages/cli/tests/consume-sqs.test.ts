import { randomUUID } from "node:crypto";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type CliIo, processIo, run } from "@ondemand-eks/cli";
import { startTestMoto } from "@ondemand-eks/testenv";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithCluster, jobExists, kubeconfigPath } from "./cluster.js";
import { cli } from "./helpers.js";

const aws = await startTestMoto("cli-consume-sqs");
afterAll(() => aws.moto?.stop());
const env = {
  AWS_ACCESS_KEY_ID: "AKIDCLISQS",
  AWS_SECRET_ACCESS_KEY: "s",
  AWS_REGION: "us-east-1",
};

describe("ondemand-eks consume sqs: settings", () => {
  it("names a bad queue URL and a bad number", async () => {
    const bad = await cli(["consume", "sqs", "--queue-url", "my-queue"], { env });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--queue-url: expected the queue\'s URL, received "my-queue"');
    const wait = await cli(["consume", "sqs", "--queue-url", "http://q/1", "--wait", "30"], {
      env,
    });
    expect(wait.stderr).toContain('--wait: expected a whole number from 0 to 20, received "30"');
  });
});

(aws.moto ? describeWithCluster : describe.skip)(
  aws.moto ? "ondemand-eks consume sqs" : `ondemand-eks consume sqs (skipped: ${aws.skipReason})`,
  () => {
    it("schedules a queued event, serves health and metrics, and stops on request", async () => {
      const endpoint = aws.moto!.endpoint;
      const sqs = new SQSClient({
        region: "us-east-1",
        endpoint,
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        },
      });
      const { QueueUrl } = await sqs.send(
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
          QueueUrl!,
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
        expect(stdout).toContain(`"outcome":"created","job":"${uuid}"`);
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
  },
);
