import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { cli, LAUNCHER, tempDir } from "./helpers.js";

const env = {
  AWS_ACCESS_KEY_ID: "AKIDCLITEST",
  AWS_SECRET_ACCESS_KEY: "cli-secret",
  AWS_SESSION_TOKEN: "cli-session/+=",
  AWS_REGION: "eu-west-1",
};

function urlOf(token: string): URL {
  return new URL(Buffer.from(token.replace(/^k8s-aws-v1\./, ""), "base64url").toString());
}

describe("ondemand-eks eks-token", () => {
  it("prints an ExecCredential with a token for the cluster and region", async () => {
    const result = await cli(["eks-token", "--cluster-name", "ci"], { env });
    expect(result).toMatchObject({ status: 0, stderr: "" });
    const credential = JSON.parse(result.stdout);
    expect(credential).toMatchObject({
      kind: "ExecCredential",
      apiVersion: "client.authentication.k8s.io/v1beta1",
      status: { token: expect.stringMatching(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/) },
    });
    const expires = Date.parse(credential.status.expirationTimestamp);
    expect(expires - Date.now()).toBeGreaterThan(13 * 60_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(14 * 60_000);
    const url = urlOf(credential.status.token);
    expect(url.host).toBe("sts.eu-west-1.amazonaws.com");
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(/^AKIDCLITEST\//);
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe("cli-session/+=");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host;x-k8s-aws-id");
    expect(result.stdout).not.toContain("cli-secret");
  });

  it("--region beats AWS_REGION; without any region it says what to set", async () => {
    const flagged = await cli(["eks-token", "--cluster-name", "ci", "--region", "cn-north-1"], {
      env,
    });
    expect(urlOf(JSON.parse(flagged.stdout).status.token).host).toBe(
      "sts.cn-north-1.amazonaws.com.cn",
    );
    const { AWS_REGION: _, ...noRegion } = env;
    const missing = await cli(["eks-token", "--cluster-name", "ci"], { env: noRegion });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(
      "ondemand-eks: error: --region: required (or set AWS_REGION or AWS_DEFAULT_REGION)\n",
    );
    const bad = await cli(["eks-token", "--cluster-name", "not a name"], { env });
    expect(bad).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("error: --cluster-name: expected an EKS cluster name"),
    });
    const badRegion = await cli(["eks-token", "--cluster-name", "ci", "--region", "mars"], { env });
    expect(badRegion).toMatchObject({
      status: 2,
      stderr:
        'ondemand-eks: error: --region: expected an AWS region such as us-east-1, received "mars"\n',
    });
    const badVariable = await cli(["eks-token", "--cluster-name", "ci"], {
      env: { ...env, AWS_REGION: "mars" },
    });
    expect(badVariable).toMatchObject({
      status: 1,
      stderr:
        'ondemand-eks: error: AWS_REGION: expected an AWS region such as us-east-1, received "mars"\n',
    });
  });

  it("signs for the STS host of the region's partition, from the AWS SDK's table", async () => {
    // Act
    const result = await cli(["eks-token", "--cluster-name", "ci", "--region", "eusc-de-east-1"], {
      env,
    });

    // Assess
    expect(result).toMatchObject({ status: 0, stderr: "" });
    expect(urlOf(JSON.parse(result.stdout).status.token).host).toBe(
      "sts.eusc-de-east-1.amazonaws.eu",
    );
  });

  it("answers in the apiVersion KUBERNETES_EXEC_INFO asks for", async () => {
    // Prepare
    const info = (apiVersion: string) =>
      JSON.stringify({ kind: "ExecCredential", apiVersion, spec: { interactive: false } });

    // Act
    const v1 = await cli(["eks-token", "--cluster-name", "ci"], {
      env: { ...env, KUBERNETES_EXEC_INFO: info("client.authentication.k8s.io/v1") },
    });
    const v1beta1 = await cli(["eks-token", "--cluster-name", "ci"], {
      env: { ...env, KUBERNETES_EXEC_INFO: info("client.authentication.k8s.io/v1beta1") },
    });
    const v1alpha1 = await cli(["eks-token", "--cluster-name", "ci"], {
      env: { ...env, KUBERNETES_EXEC_INFO: info("client.authentication.k8s.io/v1alpha1") },
    });

    // Assess
    expect(JSON.parse(v1.stdout).apiVersion).toBe("client.authentication.k8s.io/v1");
    expect(JSON.parse(v1beta1.stdout).apiVersion).toBe("client.authentication.k8s.io/v1beta1");
    expect(v1alpha1).toMatchObject({
      status: 1,
      stdout: "",
      stderr: expect.stringContaining("error: KUBERNETES_EXEC_INFO: expected apiVersion"),
    });
  });

  it("works as a kubeconfig exec credential plugin (client-node runs it and sends the token)", async () => {
    const bin = LAUNCHER;
    const dir = tempDir();
    const path = join(dir, "kubeconfig");
    writeFileSync(
      path,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "eks", cluster: { server: "https://eks.example" } }],
        users: [
          {
            name: "iam",
            user: {
              exec: {
                apiVersion: "client.authentication.k8s.io/v1beta1",
                command: process.execPath,
                args: [bin, "eks-token", "--cluster-name", "ci"],
                env: Object.entries(env).map(([name, value]) => ({ name, value })),
                interactiveMode: "Never",
              },
            },
          },
        ],
        contexts: [{ name: "eks", context: { cluster: "eks", user: "iam" } }],
        "current-context": "eks",
      }),
    );
    const config = new KubeConfig();
    config.loadFromFile(path);
    const options: { headers: Record<string, string> } = { headers: {} };
    await config.applyToHTTPSOptions(options);
    const authorization = options.headers.Authorization ?? "";
    expect(authorization).toMatch(/^Bearer k8s-aws-v1\./);
    expect(urlOf(authorization.slice(7)).searchParams.get("X-Amz-Credential")).toMatch(
      /^AKIDCLITEST\//,
    );
  });
});

describe("ondemand-eks schedule --eks-cluster", () => {
  const event = new URL("../../../examples/job-scheduled.json", import.meta.url).pathname;
  const { AWS_REGION: _, ...noRegion } = env;

  it("refuses to mix EKS with a kubeconfig, naming both sources, and needs a region", async () => {
    const mixed = await cli(
      ["schedule", "--event", event, "--eks-cluster", "ci", "--kubeconfig", "k"],
      { env },
    );
    expect(mixed).toEqual({
      status: 1,
      stdout: "",
      stderr:
        "ondemand-eks: error: --eks-cluster, --kubeconfig: choose one cluster: an EKS cluster, in-cluster, or a kubeconfig\n",
    });
    const fromEnv = await cli(["schedule", "--event", event, "--in-cluster"], {
      env: { ...env, ONDEMAND_EKS_CLUSTER_NAME: "ci" },
    });
    expect(fromEnv.stderr).toBe(
      "ondemand-eks: error: ONDEMAND_EKS_CLUSTER_NAME, --in-cluster: choose one cluster: an EKS cluster, in-cluster, or a kubeconfig\n",
    );
    const missing = await cli(["schedule", "--event", event, "--eks-cluster", "ci"], {
      env: noRegion,
    });
    expect(missing).toMatchObject({
      status: 1,
      stderr:
        "ondemand-eks: error: --region: required with an EKS cluster (or set AWS_REGION or AWS_DEFAULT_REGION)\n",
    });
  });

  it("reports every problem of the EKS settings at once", async () => {
    const result = await cli(["schedule", "--event", event, "--eks-cluster", "not a name"], {
      env: noRegion,
    });
    expect(result).toEqual({
      status: 1,
      stdout: "",
      stderr: [
        "ondemand-eks: error: 2 problems:",
        "  --region: required with an EKS cluster (or set AWS_REGION or AWS_DEFAULT_REGION)",
        '  --eks-cluster: expected an EKS cluster name (letters, digits, - and _, up to 100), received "not a name"',
        "",
      ].join("\n"),
    });
  });

  it("takes --eks-endpoint and --eks-ca-data together, checked, or from their variables", async () => {
    const alone = await cli(
      ["schedule", "--event", event, "--eks-cluster", "ci", "--eks-endpoint", "https://x.example"],
      { env },
    );
    expect(alone.stderr).toBe(
      "ondemand-eks: error: --eks-ca-data: required when --eks-endpoint is set (set both, or neither to use DescribeCluster)\n",
    );
    const bad = await cli(["schedule", "--event", event], {
      env: {
        ...env,
        ONDEMAND_EKS_CLUSTER_NAME: "ci",
        ONDEMAND_EKS_CLUSTER_ENDPOINT: "https://user:secret@x.example/path",
        ONDEMAND_EKS_CLUSTER_CA_DATA: Buffer.from("not a certificate").toString("base64"),
      },
    });
    expect(bad).toEqual({
      status: 1,
      stdout: "",
      stderr: [
        "ondemand-eks: error: 2 problems:",
        "  ONDEMAND_EKS_CLUSTER_ENDPOINT: expected https://host[:port], without path, credentials or query",
        "  ONDEMAND_EKS_CLUSTER_CA_DATA: expected the cluster CA as base64 PEM (DescribeCluster's certificateAuthority.data)",
        "",
      ].join("\n"),
    });
    // A URL may carry credentials: it is never echoed.
    expect(bad.stderr).not.toContain("secret");
  });
});
