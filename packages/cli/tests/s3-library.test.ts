import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { skipUnlessCi, startMoto } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parse } from "yaml";
import { SAMPLE_EVENT } from "./helpers.js";

// `--library s3://bucket/prefix/`: the built executable reads its pod library from S3
// (moto here), with the AWS SDK's own environment: region, keys, AWS_ENDPOINT_URL_S3.
const aws = await skipUnlessCi(() => startMoto("cli-s3-library"));
afterAll(() => aws.value?.stop());

const BIN = new URL("../dist/bin.js", import.meta.url).pathname;
const PODS = new URL("../../../pods/", import.meta.url).pathname;
const BUCKET = `cli-pods-${process.pid}`;
const CREDENTIALS = { accessKeyId: "AKIDCLIS3", secretAccessKey: "cli-s3-library" };

/** The executable with only the environment given (and PATH), as a deployment would run it. */
function ondemandEks(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? "",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_S3: aws.value?.endpoint ?? "http://127.0.0.1:1",
      // The SDK's notice that it will need Node 22 in 2027 is not the command's output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      ...env,
    },
  });
}

describeWith(aws, "ondemand-eks render --library s3://bucket/prefix/", () => {
  beforeAll(async () => {
    const s3 = new S3Client({
      region: "us-east-1",
      endpoint: aws.value?.endpoint,
      forcePathStyle: true,
      credentials: CREDENTIALS,
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const file of readdirSync(PODS).filter((name) => name.endsWith(".yaml"))) {
      const Body = readFileSync(join(PODS, file), "utf8");
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `pods/${file}`, Body }));
    }
    s3.destroy();
  });

  it("renders the Job with the definitions under the prefix, from the flag or ONDEMAND_EKS_LIBRARY", () => {
    // Act
    const fromFlag = ondemandEks([
      "render",
      "--event",
      SAMPLE_EVENT,
      "--library",
      `s3://${BUCKET}/pods/`,
    ]);
    const fromEnv = ondemandEks(["render", "--event", SAMPLE_EVENT, "-o", "json"], {
      // Without the final "/": the prefix is still the folder.
      ONDEMAND_EKS_LIBRARY: `s3://${BUCKET}/pods`,
    });

    // Assess
    expect({ status: fromFlag.status, stderr: fromFlag.stderr }).toEqual({ status: 0, stderr: "" });
    expect(parse(fromFlag.stdout).metadata.labels["ondemand-eks.io/pod-definition"]).toBe(
      "node-postgres",
    );
    expect(fromEnv.status).toBe(0);
    expect(JSON.parse(fromEnv.stdout).kind).toBe("Job");
  });

  it("exits 3 when the library cannot be read now: trying again later may work", () => {
    const result = ondemandEks([
      "render",
      "--event",
      SAMPLE_EVENT,
      "--library",
      `s3://${BUCKET}-missing/pods/`,
    ]);
    expect(result.status).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(new RegExp(`^ondemand-eks: error: s3://${BUCKET}-missing/pods/`));
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("exits 1 for an empty prefix (nothing to retry until someone fills it), and names it", () => {
    const result = ondemandEks([
      "render",
      "--event",
      SAMPLE_EVENT,
      "--library",
      `s3://${BUCKET}/none/`,
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`s3://${BUCKET}/none/: no *.yaml or *.yml definitions`);
  });
});
