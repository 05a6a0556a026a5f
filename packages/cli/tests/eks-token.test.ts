import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "./helpers.js";

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
    expect(missing.stderr).toContain("--region: required for EKS (or set AWS_REGION)");
    const bad = await cli(["eks-token", "--cluster-name", "not a name"], { env });
    expect(bad.stderr).toContain("clusterName: expected an EKS cluster name");
  });

  it("works as a kubeconfig exec credential plugin (client-node runs it and sends the token)", async () => {
    const bin = new URL("../dist/bin.js", import.meta.url).pathname;
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
    expect(options.headers.Authorization).toMatch(/^Bearer k8s-aws-v1\./);
    expect(
      urlOf(options.headers.Authorization!.slice(7)).searchParams.get("X-Amz-Credential"),
    ).toMatch(/^AKIDCLITEST\//);
  });
});

describe("ondemand-eks schedule --eks-cluster", () => {
  const event = new URL("../../../examples/job-scheduled.json", import.meta.url).pathname;
  it("refuses to mix EKS with a kubeconfig, and needs a region", async () => {
    const mixed = await cli(
      ["schedule", "--event", event, "--eks-cluster", "ci", "--kubeconfig", "k"],
      { env },
    );
    expect(mixed.status).toBe(1);
    expect(mixed.stderr).toContain(
      "--eks-cluster cannot be combined with --kubeconfig, --context or --in-cluster",
    );
    const { AWS_REGION: _, ...noRegion } = env;
    const missing = await cli(["schedule", "--event", event, "--eks-cluster", "ci"], {
      env: noRegion,
    });
    expect(missing.stderr).toContain("--region: required for EKS (or set AWS_REGION)");
  });
});
