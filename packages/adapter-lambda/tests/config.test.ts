import { LambdaConfigError, readLambdaConfig } from "@ondemand-eks/adapter-lambda/runtime";
import { DEFAULT_SETTINGS } from "@ondemand-eks/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const CA_DATA = Buffer.from(PEM).toString("base64");

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    readLambdaConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(LambdaConfigError);
    return (error as LambdaConfigError).problems;
  }
  throw new Error("expected a LambdaConfigError");
}

describe("readLambdaConfig", () => {
  it("EKS by name, with the defaults: DescribeCluster finds the endpoint; pods bundled beside the code", () => {
    const config = readLambdaConfig({
      ONDEMAND_EKS_CLUSTER_NAME: "ci",
      AWS_REGION: "eu-west-1",
      LAMBDA_TASK_ROOT: "/var/task",
    });
    expect(config).toEqual({
      settings: DEFAULT_SETTINGS,
      cluster: { kind: "eks", clusterName: "ci", region: "eu-west-1" },
      library: { kind: "directory", path: "/var/task/pods" },
      submitTimeoutMs: 20_000,
      sqsConcurrency: 10,
    });
  });

  it("EKS with endpoint and CA given: no AWS call needed to find the cluster", () => {
    const { cluster } = readLambdaConfig({
      ONDEMAND_EKS_CLUSTER_NAME: "ci",
      AWS_REGION: "us-east-1",
      ONDEMAND_EKS_CLUSTER_ENDPOINT: "https://ABC.gr7.us-east-1.eks.amazonaws.com",
      ONDEMAND_EKS_CLUSTER_CA_DATA: CA_DATA,
    });
    expect(cluster).toEqual({
      kind: "eks",
      clusterName: "ci",
      region: "us-east-1",
      endpoint: "https://ABC.gr7.us-east-1.eks.amazonaws.com",
      caPem: PEM,
    });
  });

  it("a kubeconfig relative to the task root, an S3 library with its TTL, and the tuning variables", () => {
    const config = readLambdaConfig({
      ONDEMAND_EKS_KUBECONFIG: "kubeconfig.yaml",
      ONDEMAND_EKS_CONTEXT: "ci",
      LAMBDA_TASK_ROOT: "/var/task",
      ONDEMAND_EKS_LIBRARY: "s3://my-ci-bucket/pods",
      ONDEMAND_EKS_LIBRARY_TTL_SECONDS: "60",
      ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "5",
      ONDEMAND_EKS_SQS_CONCURRENCY: "4",
      ONDEMAND_EKS_QUEUES: "default,build",
    });
    expect(config.cluster).toEqual({
      kind: "kubeconfig",
      path: "/var/task/kubeconfig.yaml",
      context: "ci",
    });
    expect(config.library).toEqual({
      kind: "s3",
      bucket: "my-ci-bucket",
      prefix: "pods/",
      ttlMs: 60_000,
    });
    expect(config.submitTimeoutMs).toBe(5_000);
    expect(config.sqsConcurrency).toBe(4);
    expect(config.settings.queues).toEqual(["default", "build"]);
  });

  it("an S3 library at the bucket's top level has an empty prefix", () => {
    const { library } = readLambdaConfig({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      ONDEMAND_EKS_LIBRARY: "s3://my-ci-bucket",
    });
    expect(library).toMatchObject({ bucket: "my-ci-bucket", prefix: "" });
  });

  it.each([
    [{}, "ONDEMAND_EKS_CLUSTER_NAME: required"],
    [
      { ONDEMAND_EKS_CLUSTER_NAME: "ci", ONDEMAND_EKS_KUBECONFIG: "/k" },
      "ONDEMAND_EKS_CLUSTER_NAME, ONDEMAND_EKS_KUBECONFIG: set one of them, not both",
    ],
    [{ ONDEMAND_EKS_CLUSTER_NAME: "ci" }, "AWS_REGION: required"],
    [
      {
        ONDEMAND_EKS_CLUSTER_NAME: "ci",
        AWS_REGION: "us-east-1",
        ONDEMAND_EKS_CLUSTER_ENDPOINT: "https://x",
      },
      "ONDEMAND_EKS_CLUSTER_CA_DATA: required when ONDEMAND_EKS_CLUSTER_ENDPOINT is set",
    ],
    [
      {
        ONDEMAND_EKS_CLUSTER_NAME: "ci",
        AWS_REGION: "us-east-1",
        ONDEMAND_EKS_CLUSTER_ENDPOINT: "http://x",
        ONDEMAND_EKS_CLUSTER_CA_DATA: CA_DATA,
      },
      "ONDEMAND_EKS_CLUSTER_ENDPOINT: expected https://host[:port], without path, credentials or query",
    ],
    [
      { ONDEMAND_EKS_CLUSTER_NAME: "my cluster!", AWS_REGION: "us-east-1" },
      'ONDEMAND_EKS_CLUSTER_NAME: expected an EKS cluster name (letters, digits, - and _, up to 100), received "my cluster!"',
    ],
    [
      { ONDEMAND_EKS_CLUSTER_NAME: "ci", AWS_REGION: "not a region" },
      'AWS_REGION: expected an AWS region such as us-east-1, received "not a region"',
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_LIBRARY: "S3://bucket/pods" },
      "ONDEMAND_EKS_LIBRARY: expected s3://bucket/prefix/ or a directory",
    ],
    [
      {
        ONDEMAND_EKS_CLUSTER_NAME: "ci",
        AWS_REGION: "us-east-1",
        ONDEMAND_EKS_CLUSTER_ENDPOINT: "https://x",
        ONDEMAND_EKS_CLUSTER_CA_DATA: "bm90IGEgY2VydA==",
      },
      "ONDEMAND_EKS_CLUSTER_CA_DATA: expected the cluster CA as base64 PEM",
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_LIBRARY: "s3://No_Such/bucket" },
      'ONDEMAND_EKS_LIBRARY: expected s3://bucket/prefix/ or a directory, received "s3://No_Such/bucket"',
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_LIBRARY_TTL_SECONDS: "5m" },
      'ONDEMAND_EKS_LIBRARY_TTL_SECONDS: expected a whole number from 0 to 86400, received "5m"',
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_SQS_CONCURRENCY: "0" },
      'ONDEMAND_EKS_SQS_CONCURRENCY: expected a whole number from 1 to 100, received "0"',
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_NAMESPACE: "Not_A_Namespace" },
      "ONDEMAND_EKS_NAMESPACE: expected a Kubernetes namespace name",
    ],
  ])("%j is refused: %s", (env, problem) => {
    expect(problemsOf(env as Record<string, string>).join("\n")).toContain(problem);
  });

  it("never repeats an endpoint that carries credentials", () => {
    const problems = problemsOf({
      ONDEMAND_EKS_CLUSTER_NAME: "ci",
      AWS_REGION: "us-east-1",
      ONDEMAND_EKS_CLUSTER_ENDPOINT: "https://admin:s3cr3t@example.com",
      ONDEMAND_EKS_CLUSTER_CA_DATA: CA_DATA,
    });
    expect(problems.join("\n")).toContain("ONDEMAND_EKS_CLUSTER_ENDPOINT");
    expect(problems.join("\n")).not.toContain("s3cr3t");
  });

  it("takes an endpoint with a port", () => {
    const { cluster } = readLambdaConfig({
      ONDEMAND_EKS_CLUSTER_NAME: "ci",
      AWS_REGION: "us-east-1",
      ONDEMAND_EKS_CLUSTER_ENDPOINT: "https://10.0.0.1:6443",
      ONDEMAND_EKS_CLUSTER_CA_DATA: CA_DATA,
    });
    expect(cluster).toMatchObject({ endpoint: "https://10.0.0.1:6443" });
  });

  it("reports every problem at once", () => {
    expect(
      problemsOf({
        ONDEMAND_EKS_QUEUES: "a b",
        ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "-1",
      }),
    ).toHaveLength(3);
  });

  it("cuts long values short in messages", () => {
    const [problem] = problemsOf({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      ONDEMAND_EKS_SQS_CONCURRENCY: "9".repeat(500),
    });
    expect(problem).toMatch(/received "9{57}\.\.\."$/);
  });

  it("whatever the variables hold, the answer is a config or a LambdaConfigError", () => {
    const names = [
      "ONDEMAND_EKS_CLUSTER_NAME",
      "ONDEMAND_EKS_CLUSTER_ENDPOINT",
      "ONDEMAND_EKS_CLUSTER_CA_DATA",
      "ONDEMAND_EKS_KUBECONFIG",
      "ONDEMAND_EKS_LIBRARY",
      "ONDEMAND_EKS_LIBRARY_TTL_SECONDS",
      "ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS",
      "ONDEMAND_EKS_SQS_CONCURRENCY",
      "ONDEMAND_EKS_QUEUES",
      "AWS_REGION",
    ];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), fc.string()), (env) => {
        try {
          readLambdaConfig(env);
        } catch (error) {
          expect(error).toBeInstanceOf(LambdaConfigError);
          expect((error as LambdaConfigError).problems.length).toBeGreaterThan(0);
        }
      }),
    );
  });
});
