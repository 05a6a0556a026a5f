import { readControllerLambdaConfig } from "@ondemand-eks/adapter-lambda/runtime";
import { CONTROLLER_SETTINGS } from "@ondemand-eks/controller/settings";
import { InvalidSettingsError, type Issue } from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";

const TOKEN_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:buildkite-AbC123";
const CLUSTER = { ONDEMAND_EKS_CLUSTER_NAME: "ci", AWS_REGION: "eu-west-1" };

async function issuesOf(env: Record<string, string>): Promise<readonly Issue[]> {
  const error = await readControllerLambdaConfig(env).then(
    () => expect.unreachable("read"),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(InvalidSettingsError);
  return (error as InvalidSettingsError).issues;
}

describe("readControllerLambdaConfig", () => {
  it("reads the cluster as every function does, and the token's ARN", async () => {
    // Act
    const config = await readControllerLambdaConfig({
      ...CLUSTER,
      ONDEMAND_EKS_CLUSTER_TOKEN_ARN: TOKEN_ARN,
      LAMBDA_TASK_ROOT: "/var/task",
    });
    // Assess
    expect(config.token).toEqual({ kind: "arn", arn: TOKEN_ARN });
    expect(config.scheduler).toMatchObject({
      cluster: { kind: "eks", clusterName: "ci", region: "eu-west-1" },
      library: { kind: "directory", path: "/var/task/pods" },
      submitTimeoutMs: 20_000,
    });
    // The controller's own settings, with their defaults.
    expect(config.settings.get(CONTROLLER_SETTINGS.stackKey)).toBe("ondemand-eks");
    expect(config.settings.get(CONTROLLER_SETTINGS.buildkiteEndpoint)).toBe(
      "https://agent.buildkite.com/v3",
    );
  });

  it("reads the controller's settings by variable", async () => {
    const config = await readControllerLambdaConfig({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      BUILDKITE_CLUSTER_TOKEN: "bkct_0123456789abcdef0123",
      ONDEMAND_EKS_STACK_KEY: "lambda",
      ONDEMAND_EKS_BUILDKITE_ENDPOINT: "http://127.0.0.1:9/v3",
      ONDEMAND_EKS_PENDING_TIMEOUT_SECONDS: "60",
      ONDEMAND_EKS_LEASE_NAMESPACE: "buildkite",
    });
    expect(config.token).toEqual({ kind: "variable" });
    const c = CONTROLLER_SETTINGS;
    expect(config.settings.get(c.stackKey)).toBe("lambda");
    expect(config.settings.get(c.buildkiteEndpoint)).toBe("http://127.0.0.1:9/v3");
    expect(config.settings.get(c.pendingTimeoutMs)).toBe(60_000);
    expect(config.settings.get(c.leaseNamespace)).toBe("buildkite");
  });

  it("never reads a token file: the function has its ARN instead", async () => {
    const issues = await issuesOf({ ...CLUSTER, ONDEMAND_EKS_CLUSTER_TOKEN_FILE: "/t" });
    expect(issues).toEqual([
      { path: "ONDEMAND_EKS_CLUSTER_TOKEN_ARN", message: expect.stringContaining("required") },
    ]);
  });

  it("takes one way to give the token, not both", async () => {
    const issues = await issuesOf({
      ...CLUSTER,
      ONDEMAND_EKS_CLUSTER_TOKEN_ARN: TOKEN_ARN,
      BUILDKITE_CLUSTER_TOKEN: "bkct_0123456789abcdef0123",
    });
    expect(issues).toEqual([
      {
        path: "ONDEMAND_EKS_CLUSTER_TOKEN_ARN, BUILDKITE_CLUSTER_TOKEN",
        message: "choose one way to give the cluster token",
      },
    ]);
  });

  it("reports every problem at once, each by its variable", async () => {
    const issues = await issuesOf({ ONDEMAND_EKS_STACK_KEY: "no spaces allowed" });
    expect(issues.map((issue) => issue.path).sort()).toEqual([
      "ONDEMAND_EKS_CLUSTER_NAME",
      "ONDEMAND_EKS_CLUSTER_TOKEN_ARN",
      "ONDEMAND_EKS_STACK_KEY",
    ]);
  });
});
