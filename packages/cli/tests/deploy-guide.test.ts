import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import { PrerequisiteMissingError, skipUnlessCi, startMoto } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, expect, it } from "vitest";
import { tempDir } from "./helpers.js";

const execFileAsync = promisify(execFile);
const GUIDE = new URL("../../../docs/deploy-kubernetes.md", import.meta.url);

/** The AWS CLI the guide's commands use (its path and version), or why it is missing. */
async function awsCli(): Promise<{ path: string; version: string }> {
  try {
    const { stdout: path } = await execFileAsync("sh", ["-c", "command -v aws"]);
    const { stdout, stderr } = await execFileAsync("aws", ["--version"]);
    return { path: path.trim(), version: (stdout || stderr).trim() };
  } catch (error) {
    throw new PrerequisiteMissingError(
      `the AWS CLI is not installed (${(error as Error).message}); pip install awscli`,
    );
  }
}

/** The guide's first shell block after `heading`, out of its list item's indentation. */
function shellBlockAfter(heading: string): string {
  const text = readFileSync(GUIDE, "utf8");
  const from = text.indexOf(heading);
  if (from < 0) throw new Error(`docs/deploy-kubernetes.md no longer says "${heading}"`);
  const block = /```sh\n([\s\S]*?)\n\s*```/.exec(text.slice(from))?.[1] ?? "";
  return block.replace(/^ {3}/gm, "");
}

const cli = await skipUnlessCi(awsCli);
const aws = await skipUnlessCi(() => startMoto("cli-deploy-guide"));
afterAll(() => aws.value?.stop());

describeWith([cli, aws], "docs/deploy-kubernetes.md, the SQS consumer's queue", () => {
  it("creates the queue with a dead-letter queue after five receives, as written", async () => {
    // Prepare
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: tempDir(),
      AWS_ACCESS_KEY_ID: "AKIDGUIDE",
      AWS_SECRET_ACCESS_KEY: "guide",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_ENDPOINT_URL: aws.value?.endpoint ?? "",
    };
    const script = shellBlockAfter("0. Create the queue with a dead-letter queue");
    // Version 1 of the AWS CLI ignores AWS_ENDPOINT_URL: an `aws` first on PATH adds it.
    const bin = tempDir({
      aws: `#!/bin/sh\nexec ${cli.value?.path} --endpoint-url "$AWS_ENDPOINT_URL" "$@"\n`,
    });
    await chmod(join(bin, "aws"), 0o755);

    // Act
    await execFileAsync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
      env: { ...env, PATH: `${bin}:${env.PATH}` },
      cwd: env.HOME,
    });

    // Assess
    const sqs = new SQSClient({
      region: env.AWS_DEFAULT_REGION,
      endpoint: env.AWS_ENDPOINT_URL,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      },
    });
    const url = async (name: string) =>
      (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    const attributes = async (name: string) =>
      (
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: await url(name), AttributeNames: ["All"] }),
        )
      ).Attributes ?? {};
    const jobs = await attributes("ondemand-eks-jobs");
    const dlq = await attributes("ondemand-eks-jobs-dlq");
    expect(JSON.parse(jobs.RedrivePolicy ?? "{}")).toEqual({
      deadLetterTargetArn: dlq.QueueArn,
      maxReceiveCount: 5,
    });
    expect(dlq.MessageRetentionPeriod).toBe("1209600");
  });
});
