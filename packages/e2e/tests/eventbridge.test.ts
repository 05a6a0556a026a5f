import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type CliIo, processIo, run } from "@ondemand-eks/cli";
import { type EmulatedLambda, skipUnlessCi, startLambda, startMoto } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HELLO, type RunningCli, runToEnd, schedulerFlags, startCli, startWorld } from "./world.js";

// The emulator's "Job Scheduled" as Amazon EventBridge carries it, to each consumer of
// it: `schedule` given the event, the SQS consumer (an EventBridge rule's SQS target, on
// moto), and the Lambda function (an EventBridge rule's Lambda target, under the Lambda
// Runtime Interface Emulator). One delivery target routes each event to the consumer
// under test.
// What to stop, last started first; registered before anything starts, so a failure to
// start moto still stops the world.
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of cleanup.reverse()) await stop();
});
const world = await startWorld("e2e-eventbridge");
cleanup.push(world.close);
const aws = await skipUnlessCi(() => startMoto("e2e-eventbridge"));
cleanup.push(async () => aws.value?.stop());

type Send = (event: unknown) => Promise<void>;
let route: Send = async () => {
  throw new Error("no consumer is under test");
};
const w = () => world.info.value as NonNullable<typeof world.info.value>;

beforeAll(() => {
  if (world.info.available) {
    w().local.buildkite.deliverTo({ kind: "eventbridge", send: (event) => route(event) });
  }
});

/** Creates `command` (for `pod`, or the default definition) in the emulator; waits for its end. */
async function runJob(command = HELLO, pod?: string) {
  const rules = pod ? ["queue=default", `pod=${pod}`] : undefined;
  const id = w().local.buildkite.createJob({ command, agentQueryRules: rules });
  return runToEnd(w(), id);
}

/** `echo hello` in a pod of each bundled one-shot definition runs to a Complete Job. */
async function expectHelloInEachDefinition() {
  for (const pod of [undefined, "node-postgres"]) {
    const ended = await runJob(HELLO, pod);
    expect(ended.exitStatus, ended.story).toBe(0);
    expect(ended.log).toContain("hello");
    expect(ended.kubernetes, ended.story).toBe("Complete");
  }
}

describeWith(world.info, "end to end: ondemand-eks schedule, given the EventBridge event", () => {
  beforeAll(() => {
    route = async (event) => {
      const io: CliIo = {
        ...processIo(),
        stdout: () => {},
        stderr: () => {},
        readStdin: async () => JSON.stringify(event),
        env: {},
      };
      const status = await run(["schedule", "--event", "-", ...schedulerFlags(w())], io);
      if (status !== 0) throw new Error(`schedule exited ${status}`);
    };
  });

  it("runs the job in default and node-postgres pods: exit 0, its log, the Job Complete", async () => {
    await expectHelloInEachDefinition();
  });

  it("fails a failing job in both", async () => {
    // Act
    const failed = await runJob("exit 5");

    // Assess
    expect(failed.exitStatus, failed.story).toBe(5);
    expect(failed.kubernetes, failed.story).toBe("Failed");
  });
});

describeWith([world.info, aws], "end to end: the SQS consumer (consume sqs)", () => {
  let consumer: RunningCli;
  beforeAll(async () => {
    const env = {
      AWS_ACCESS_KEY_ID: "AKIDE2ESQS",
      AWS_SECRET_ACCESS_KEY: "s",
      AWS_REGION: "us-east-1",
    };
    const endpoint = aws.value?.endpoint ?? "";
    const sqs = new SQSClient({
      region: env.AWS_REGION,
      endpoint,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      },
    });
    const { QueueUrl = "" } = await sqs.send(new CreateQueueCommand({ QueueName: "e2e-events" }));
    route = async (event) => {
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(event) }));
    };
    consumer = startCli(
      [
        "consume",
        "sqs",
        ...["--queue-url", QueueUrl, "--sqs-endpoint", endpoint, "--wait", "1"],
        ...["--port", "0", "--host", "127.0.0.1"],
        ...schedulerFlags(w()),
      ],
      env,
      /health and metrics on (\S+)/,
    );
    await consumer.announced;
  });
  afterAll(async () => {
    expect(await consumer?.stop()).toBe(0);
  });

  it("runs the job in default and node-postgres pods: exit 0, its log, the Job Complete", async () => {
    await expectHelloInEachDefinition();
  });
});

/** The function as deployed: the adapter-lambda package's bundle. */
const BUNDLE_DIR = join(
  dirname(createRequire(import.meta.url).resolve("@ondemand-eks/adapter-lambda/package.json")),
  "dist",
  "lambda",
);

/** How each handler receives the event: as the EventBridge target, or in an SQS batch. */
const invocations: [string, (event: unknown) => unknown][] = [
  ["index.eventBridge", (event) => event],
  [
    "index.sqs",
    (event) => ({ Records: [{ messageId: "m1", body: JSON.stringify(event), attributes: {} }] }),
  ],
];

describe.each(invocations)("end to end: the Lambda function (%s)", (handler, wrap) => {
  describeWith(world.info, "under the Lambda Runtime Interface Emulator", () => {
    let lambda: EmulatedLambda;
    beforeAll(async () => {
      lambda = await startLambda(`e2e-${handler.replace(".", "-")}`, {
        handlerDir: BUNDLE_DIR,
        handler,
        env: {
          ONDEMAND_EKS_KUBECONFIG: w().kubeconfig,
          ONDEMAND_EKS_AGENT_ENDPOINT: w().local.buildkite.url,
        },
      });
      route = async (event) => {
        const result = await lambda.invoke(wrap(event));
        const failed = /errorType|"itemIdentifier"/.test(result.raw);
        if (result.status !== 200 || failed) {
          throw new Error(`the function failed: ${result.raw}`);
        }
      };
    });
    afterAll(() => lambda?.stop());

    it("runs the job in default and node-postgres pods: exit 0, its log, the Job Complete", async () => {
      await expectHelloInEachDefinition();
    });
  });
});
