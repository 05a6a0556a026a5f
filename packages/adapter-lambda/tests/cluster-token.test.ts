import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { ClusterTokenUnavailableError } from "@ondemand-eks/adapter-lambda";
import { parseClusterTokenArn, readClusterToken } from "@ondemand-eks/adapter-lambda/runtime";
import { skipUnlessCi, startMoto } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, describe, expect, it } from "vitest";

/** What a token looks like: long, without spaces. Never to appear in an error. */
const token = () => `bkct_${randomUUID().replaceAll("-", "")}`;

/** The error `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable("resolved"),
    (error: unknown) => error,
  );
}

describe("parseClusterTokenArn", () => {
  it.each([
    [
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:buildkite/token-AbC123",
      { service: "secretsmanager", region: "eu-west-1" },
    ],
    [
      "arn:aws:ssm:us-east-1:123456789012:parameter/buildkite/token",
      { service: "ssm", region: "us-east-1", name: "/buildkite/token" },
    ],
    [
      "arn:aws:ssm:us-east-1:123456789012:parameter/token",
      { service: "ssm", region: "us-east-1", name: "token" },
    ],
    [
      "arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/a/b.c",
      { service: "ssm", region: "us-gov-west-1", name: "/a/b.c" },
    ],
    [
      "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:t-AbC123",
      { service: "secretsmanager", region: "cn-north-1" },
    ],
  ])("%s is a token's place: %j", (arn, expected) => {
    expect(parseClusterTokenArn(arn)).toEqual({ ...expected, arn });
  });

  it.each([
    "",
    "buildkite/token",
    "arn:aws:s3:::bucket/token",
    "arn:aws:ssm:us-east-1:123456789012:document/token",
    "arn:aws:ssm:us-east-1:123456789012:parameter/",
    "arn:aws:ssm:us-east-1:123456789012:parameter/a//b",
    "arn:aws:secretsmanager:us-east-1:1234:secret:token-AbC123",
    "arn:aws:secretsmanager:us-east-1:123456789012:token-AbC123",
  ])("%j is not", (arn) => {
    expect(parseClusterTokenArn(arn)).toBeUndefined();
  });
});

describe("readClusterToken, without AWS", () => {
  it("refuses an ARN of another service, naming it and the two it takes", async () => {
    const arn = "arn:aws:s3:::bucket/token";
    const error = await rejection(readClusterToken(arn, { env: {} }));
    expect(error).toBeInstanceOf(ClusterTokenUnavailableError);
    expect(error).toMatchObject({ code: "INVALID_SETTINGS", arn });
    expect(String(error)).toContain(arn);
    expect(String(error)).toContain("ONDEMAND_EKS_CLUSTER_TOKEN_ARN");
    expect(String(error)).toContain("secretsmanager");
  });

  it("gives up at its deadline when the service never answers, naming the ARN", async () => {
    // Prepare: a server that takes requests and never answers them.
    const server: Server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const arn = "arn:aws:ssm:us-east-1:123456789012:parameter/silent";
    try {
      // Act
      const error = await rejection(
        readClusterToken(arn, {
          env: {
            AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${port}`,
            AWS_ACCESS_KEY_ID: "AKIDTOKEN",
            AWS_SECRET_ACCESS_KEY: "token-test",
          },
          timeoutMs: 300,
        }),
      );
      // Assess
      expect(error).toBeInstanceOf(ClusterTokenUnavailableError);
      expect(String(error)).toContain(arn);
      expect(String(error)).toContain("no answer within 300 ms");
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

const moto = await skipUnlessCi(() => startMoto("lambda-cluster-token"));
afterAll(() => moto.value?.stop());

describeWith(moto, "readClusterToken against moto", () => {
  const credentials = { accessKeyId: "AKIDTOKEN", secretAccessKey: "token-test" };
  const endpoint = () => moto.value?.endpoint ?? "";
  const env = () => ({
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint(),
    AWS_ENDPOINT_URL_SSM: endpoint(),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  });
  const secrets = () =>
    new SecretsManagerClient({ region: "us-east-1", endpoint: endpoint(), credentials });
  const ssm = () => new SSMClient({ region: "us-east-1", endpoint: endpoint(), credentials });

  it("reads a Secrets Manager secret's SecretString, trimmed", async () => {
    // Prepare
    const value = token();
    const created = await secrets().send(
      new CreateSecretCommand({ Name: `buildkite/${randomUUID()}`, SecretString: `${value}\n` }),
    );
    // Act
    const read = await readClusterToken(created.ARN as string, { env: env() });
    // Assess
    expect(read).toBe(value);
  });

  it("reads an SSM SecureString parameter, decrypted, by its ARN", async () => {
    // Prepare
    const value = token();
    const name = `/buildkite/${randomUUID()}`;
    await ssm().send(new PutParameterCommand({ Name: name, Value: value, Type: "SecureString" }));
    const arn = `arn:aws:ssm:us-east-1:123456789012:parameter${name}`;
    // Act
    const read = await readClusterToken(arn, { env: env() });
    // Assess
    expect(read).toBe(value);
  });

  it("reads a parameter outside any hierarchy", async () => {
    const value = token();
    const name = `token-${randomUUID()}`;
    await ssm().send(new PutParameterCommand({ Name: name, Value: value, Type: "String" }));
    const arn = `arn:aws:ssm:us-east-1:123456789012:parameter/${name}`;
    expect(await readClusterToken(arn, { env: env() })).toBe(value);
  });

  it.each([
    ["a secret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbC123"],
    ["a parameter", "arn:aws:ssm:us-east-1:123456789012:parameter/missing/token"],
  ])("a wrong ARN (%s that does not exist) is an error naming the ARN and why", async (_, arn) => {
    const error = await rejection(readClusterToken(arn, { env: env() }));
    expect(error).toBeInstanceOf(ClusterTokenUnavailableError);
    expect(error).toMatchObject({
      code: "INVALID_SETTINGS",
      arn,
      issues: [{ path: "ONDEMAND_EKS_CLUSTER_TOKEN_ARN", message: expect.stringContaining(arn) }],
    });
    expect(String(error)).toMatch(/NotFound/);
  });

  it("a secret without a SecretString is an error naming the ARN, never the bytes", async () => {
    const created = await secrets().send(
      new CreateSecretCommand({
        Name: `binary-${randomUUID()}`,
        SecretBinary: Buffer.from("not-the-token-shown"),
      }),
    );
    const error = await rejection(readClusterToken(created.ARN as string, { env: env() }));
    expect(String(error)).toContain(created.ARN as string);
    expect(String(error)).toContain("no SecretString");
    expect(String(error)).not.toContain("not-the-token-shown");
  });
});
