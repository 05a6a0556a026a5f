import { readLambdaConfig } from "@ondemand-eks/adapter-lambda/runtime";
import { DEFAULT_SETTINGS, InvalidSettingsError, type Issue } from "@ondemand-eks/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

// What is the Lambda function's own: its variables' names in every message, paths taken
// from the function's package, its defaults. The cluster and library checks every entry
// point shares are tested with the runtime (packages/runtime/tests/config.test.ts).

/** The variables the function reads besides the scheduler settings. */
const VARIABLES = [
  "ONDEMAND_EKS_CLUSTER_NAME",
  "ONDEMAND_EKS_CLUSTER_ENDPOINT",
  "ONDEMAND_EKS_CLUSTER_CA_DATA",
  "ONDEMAND_EKS_KUBECONFIG",
  "ONDEMAND_EKS_CONTEXT",
  "ONDEMAND_EKS_LIBRARY",
  "ONDEMAND_EKS_LIBRARY_TTL_SECONDS",
  "ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS",
  "ONDEMAND_EKS_SQS_CONCURRENCY",
  "ONDEMAND_EKS_LOG_LEVEL",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "ONDEMAND_EKS_CLUSTER_TOKEN_ARN",
  "BUILDKITE_CLUSTER_TOKEN",
  "ONDEMAND_EKS_BUILDKITE_ENDPOINT",
  "ONDEMAND_EKS_STACK_KEY",
  "ONDEMAND_EKS_STALE_EVENT_SECONDS",
];

async function issuesOf(env: Record<string, string>): Promise<readonly Issue[]> {
  const error = await readLambdaConfig(env).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(InvalidSettingsError);
  expect(error).toMatchObject({ code: "INVALID_SETTINGS" });
  return (error as InvalidSettingsError).issues;
}

describe("readLambdaConfig", () => {
  it("EKS by name with the defaults: pods beside the code, a 20 s deadline, 10 messages at once", async () => {
    // Act
    const config = await readLambdaConfig({
      ONDEMAND_EKS_CLUSTER_NAME: "ci",
      AWS_REGION: "eu-west-1",
      LAMBDA_TASK_ROOT: "/var/task",
    });
    // Assess
    expect(config).toEqual({
      scheduler: {
        settings: DEFAULT_SETTINGS,
        cluster: { kind: "eks", clusterName: "ci", region: "eu-west-1" },
        library: { kind: "directory", path: "/var/task/pods" },
        submitTimeoutMs: 20_000,
        dryRun: false,
        logLevel: "info",
        region: "eu-west-1",
      },
      sqsConcurrency: 10,
    });
  });

  it("takes a relative kubeconfig and library from the task root, absolute ones as they are", async () => {
    const relative = await readLambdaConfig({
      ONDEMAND_EKS_KUBECONFIG: "kubeconfig.yaml",
      ONDEMAND_EKS_CONTEXT: "ci",
      ONDEMAND_EKS_LIBRARY: "config/pods",
      LAMBDA_TASK_ROOT: "/var/task",
    });
    expect(relative.scheduler.cluster).toEqual({
      kind: "kubeconfig",
      path: "/var/task/kubeconfig.yaml",
      context: "ci",
    });
    expect(relative.scheduler.library).toEqual({
      kind: "directory",
      path: "/var/task/config/pods",
    });
    const absolute = await readLambdaConfig({
      ONDEMAND_EKS_KUBECONFIG: "/opt/kubeconfig",
      ONDEMAND_EKS_LIBRARY: "/opt/pods",
      LAMBDA_TASK_ROOT: "/var/task",
    });
    expect(absolute.scheduler.cluster).toEqual({ kind: "kubeconfig", path: "/opt/kubeconfig" });
    expect(absolute.scheduler.library).toEqual({ kind: "directory", path: "/opt/pods" });
  });

  it("without LAMBDA_TASK_ROOT, takes relative paths from the working directory", async () => {
    const { scheduler } = await readLambdaConfig({ ONDEMAND_EKS_KUBECONFIG: "k.yaml" });
    expect(scheduler.cluster).toMatchObject({ path: `${process.cwd()}/k.yaml` });
    expect(scheduler.library).toEqual({ kind: "directory", path: `${process.cwd()}/pods` });
  });

  it("reads the tuning variables: deadline, batch concurrency, log level, scheduler settings", async () => {
    const config = await readLambdaConfig({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "5",
      ONDEMAND_EKS_SQS_CONCURRENCY: "4",
      ONDEMAND_EKS_LOG_LEVEL: "warn",
      ONDEMAND_EKS_QUEUES: "default,build",
    });
    expect(config.scheduler.submitTimeoutMs).toBe(5_000);
    expect(config.sqsConcurrency).toBe(4);
    expect(config.scheduler.logLevel).toBe("warn");
    expect(config.scheduler.settings.queues).toEqual(["default", "build"]);
  });

  it("has no dry run: ONDEMAND_EKS_DRY_RUN is not a Lambda variable", async () => {
    const { scheduler } = await readLambdaConfig({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      ONDEMAND_EKS_DRY_RUN: "true",
    });
    expect(scheduler.dryRun).toBe(false);
  });

  it.each([
    [{}, "ONDEMAND_EKS_CLUSTER_NAME", "required"],
    [{ ONDEMAND_EKS_CLUSTER_NAME: "ci" }, "AWS_REGION", "required"],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_SQS_CONCURRENCY: "0" },
      "ONDEMAND_EKS_SQS_CONCURRENCY",
      "expected",
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "soon" },
      "ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS",
      "expected",
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_NAMESPACE: "Not_A_Namespace" },
      "ONDEMAND_EKS_NAMESPACE",
      "expected",
    ],
    [
      {
        ONDEMAND_EKS_CLUSTER_NAME: "ci",
        AWS_REGION: "us-east-1",
        ONDEMAND_EKS_CLUSTER_ENDPOINT: "https://x",
      },
      "ONDEMAND_EKS_CLUSTER_CA_DATA",
      "required when ONDEMAND_EKS_CLUSTER_ENDPOINT is set",
    ],
  ])("%j is refused, naming the variable %s", async (env, variable, message) => {
    const issues = await issuesOf(env as Record<string, string>);
    expect(issues).toContainEqual({ path: variable, message: expect.stringContaining(message) });
  });

  it("says a cluster is required as the function says it: by variable, never by flag", async () => {
    const [issue] = await issuesOf({});
    expect(issue?.message).toContain("ONDEMAND_EKS_KUBECONFIG");
    expect(issue?.message).not.toContain("--");
  });

  it("reports every problem at once", async () => {
    const issues = await issuesOf({
      ONDEMAND_EKS_QUEUES: "a b",
      ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "-1",
    });
    expect(issues.map((issue) => issue.path).sort()).toEqual([
      "ONDEMAND_EKS_CLUSTER_NAME",
      "ONDEMAND_EKS_QUEUES",
      "ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS",
    ]);
  });

  it("checks no late event without a cluster token, whatever else is set", async () => {
    // Act
    const config = await readLambdaConfig({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      ONDEMAND_EKS_STALE_EVENT_SECONDS: "5",
      ONDEMAND_EKS_STACK_KEY: "ci",
    });
    // Assess
    expect(config.lateEvents).toBeUndefined();
  });

  it("with a token ARN, checks late events: through <stack key>-<first queue>, after 60 s", async () => {
    // Prepare
    const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:buildkite/token-AbC123";
    // Act
    const config = await readLambdaConfig({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      ONDEMAND_EKS_CLUSTER_TOKEN_ARN: arn,
      ONDEMAND_EKS_QUEUES: "build,deploy",
    });
    // Assess
    expect(config.lateEvents).toMatchObject({
      token: { kind: "arn", arn },
      endpoint: "https://agent.buildkite.com/v3",
      stack: "ondemand-eks-build",
      staleAfterMs: 60_000,
    });
  });

  it("with the token in its variable, reads the endpoint, stack key and threshold", async () => {
    const config = await readLambdaConfig({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      BUILDKITE_CLUSTER_TOKEN: "bkct_0123456789abcdef0123456789",
      ONDEMAND_EKS_BUILDKITE_ENDPOINT: "http://127.0.0.1:9/v3",
      ONDEMAND_EKS_STACK_KEY: "ci",
      ONDEMAND_EKS_STALE_EVENT_SECONDS: "5",
    });
    expect(config.lateEvents).toMatchObject({
      token: { kind: "variable" },
      endpoint: "http://127.0.0.1:9/v3",
      stack: "ci-default",
      staleAfterMs: 5_000,
    });
  });

  it.each([
    [
      {
        ONDEMAND_EKS_CLUSTER_TOKEN_ARN: "arn:aws:ssm:eu-west-1:123456789012:parameter/t",
        BUILDKITE_CLUSTER_TOKEN: "bkct_0123456789abcdef0123456789",
      },
      "ONDEMAND_EKS_CLUSTER_TOKEN_ARN, BUILDKITE_CLUSTER_TOKEN",
      "choose one",
    ],
    [{ ONDEMAND_EKS_STALE_EVENT_SECONDS: "0" }, "ONDEMAND_EKS_STALE_EVENT_SECONDS", "expected"],
    [{ ONDEMAND_EKS_STACK_KEY: "no spaces" }, "ONDEMAND_EKS_STACK_KEY", "expected"],
    [{ ONDEMAND_EKS_BUILDKITE_ENDPOINT: "ftp://x" }, "ONDEMAND_EKS_BUILDKITE_ENDPOINT", ""],
  ])("late-event settings %j are refused, naming %s", async (env, variable, message) => {
    const issues = await issuesOf({ ONDEMAND_EKS_KUBECONFIG: "/k", ...env });
    expect(issues).toContainEqual({ path: variable, message: expect.stringContaining(message) });
  });

  it("whatever the variables hold, the answer is a config or problems each naming a variable", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...VARIABLES, "ONDEMAND_EKS_QUEUES"), fc.string()),
        async (env) => {
          try {
            await readLambdaConfig(env);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidSettingsError);
            const { issues } = error as InvalidSettingsError;
            expect(issues.length).toBeGreaterThan(0);
            for (const issue of issues) {
              for (const name of issue.path.split(", ")) {
                expect([...VARIABLES, "ONDEMAND_EKS_QUEUES"]).toContain(name);
              }
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
