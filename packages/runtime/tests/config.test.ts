import { DEFAULT_SETTINGS, formatIssues, InvalidSettingsError } from "@ondemand-eks/core";
import {
  type ReadConfigOptions,
  RUNTIME_SETTINGS,
  readConfig,
  SETTINGS,
} from "@ondemand-eks/runtime";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const CA_DATA = Buffer.from(PEM).toString("base64");

type Env = Record<string, string>;

/** The Lambda function's configuration: its environment only, paths from its task root. */
const lambda = (env: Env) => readConfig({ scope: "lambda", env, baseDir: "/var/task" });

/** Every problem of a configuration that must fail, one `source: message` line each. */
async function problemsOf(options: ReadConfigOptions): Promise<string[]> {
  let caught: unknown;
  try {
    await readConfig(options);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidSettingsError);
  return formatIssues((caught as InvalidSettingsError).issues).split("\n");
}

const lambdaProblems = (env: Env) => problemsOf({ scope: "lambda", env, baseDir: "/var/task" });

describe("readConfig: the Lambda function (environment only)", () => {
  it("EKS by name, with the defaults: DescribeCluster finds the endpoint; pods bundled beside the code", async () => {
    // Prepare / Act
    const { scheduler, settings } = await lambda({
      ONDEMAND_EKS_CLUSTER_NAME: "ci",
      AWS_REGION: "eu-west-1",
    });
    // Assess
    expect(scheduler).toEqual({
      settings: DEFAULT_SETTINGS,
      cluster: { kind: "eks", clusterName: "ci", region: "eu-west-1" },
      library: { kind: "directory", path: "/var/task/pods" },
      submitTimeoutMs: 20_000,
      dryRun: false,
      logLevel: "info",
      region: "eu-west-1",
    });
    expect(settings.get(RUNTIME_SETTINGS.concurrency)).toBe(10);
  });

  it("reads the agent endpoint the Jobs' agents connect to", async () => {
    const { scheduler } = await lambda({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      ONDEMAND_EKS_AGENT_ENDPOINT: "http://buildkite-emulator.ci:8080/v3",
    });
    expect(scheduler.settings).toEqual({
      ...DEFAULT_SETTINGS,
      agentEndpoint: "http://buildkite-emulator.ci:8080/v3",
    });
  });

  it("EKS with endpoint and CA given: no AWS call needed to find the cluster", async () => {
    const { scheduler } = await lambda({
      ONDEMAND_EKS_CLUSTER_NAME: "ci",
      AWS_REGION: "us-east-1",
      ONDEMAND_EKS_CLUSTER_ENDPOINT: "https://ABC.gr7.us-east-1.eks.amazonaws.com",
      ONDEMAND_EKS_CLUSTER_CA_DATA: CA_DATA,
    });
    expect(scheduler.cluster).toEqual({
      kind: "eks",
      clusterName: "ci",
      region: "us-east-1",
      endpoint: "https://ABC.gr7.us-east-1.eks.amazonaws.com",
      caPem: PEM,
    });
  });

  it("takes AWS_DEFAULT_REGION when AWS_REGION is not set", async () => {
    const { scheduler } = await lambda({
      ONDEMAND_EKS_CLUSTER_NAME: "ci",
      AWS_DEFAULT_REGION: "ap-south-1",
    });
    expect(scheduler.cluster).toMatchObject({ region: "ap-south-1" });
  });

  it("a kubeconfig relative to the task root, an S3 library with its TTL, and the tuning variables", async () => {
    const { scheduler, settings } = await lambda({
      ONDEMAND_EKS_KUBECONFIG: "kubeconfig.yaml",
      ONDEMAND_EKS_CONTEXT: "ci",
      ONDEMAND_EKS_LIBRARY: "s3://my-ci-bucket/pods",
      ONDEMAND_EKS_LIBRARY_TTL_SECONDS: "60",
      ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "5",
      ONDEMAND_EKS_SQS_CONCURRENCY: "4",
      ONDEMAND_EKS_QUEUES: "default,build",
      ONDEMAND_EKS_LOG_LEVEL: "debug",
    });
    expect(scheduler.cluster).toEqual({
      kind: "kubeconfig",
      path: "/var/task/kubeconfig.yaml",
      context: "ci",
    });
    expect(scheduler.library).toEqual({
      kind: "s3",
      bucket: "my-ci-bucket",
      prefix: "pods/",
      ttlMs: 60_000,
    });
    expect(scheduler.submitTimeoutMs).toBe(5_000);
    expect(scheduler.logLevel).toBe("debug");
    expect(settings.get(RUNTIME_SETTINGS.concurrency)).toBe(4);
    expect(scheduler.settings.queues).toEqual(["default", "build"]);
  });

  it("an S3 library at the bucket's top level has an empty prefix", async () => {
    const { scheduler } = await lambda({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      ONDEMAND_EKS_LIBRARY: "s3://my-ci-bucket",
    });
    expect(scheduler.library).toEqual({
      kind: "s3",
      bucket: "my-ci-bucket",
      prefix: "",
      ttlMs: 300_000,
    });
  });

  it("reads none of the command's own settings: no dry run, no in-cluster", async () => {
    const { scheduler } = await lambda({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      ONDEMAND_EKS_DRY_RUN: "true",
      ONDEMAND_EKS_IN_CLUSTER: "true",
    });
    expect(scheduler.dryRun).toBe(false);
    expect(scheduler.cluster).toEqual({ kind: "kubeconfig", path: "/k" });
  });

  it.each([
    [{}, "ONDEMAND_EKS_CLUSTER_NAME: required: the EKS cluster's name (or ONDEMAND_EKS_KUBECONFIG"],
    [
      { ONDEMAND_EKS_CLUSTER_NAME: "ci", ONDEMAND_EKS_KUBECONFIG: "/k" },
      "ONDEMAND_EKS_CLUSTER_NAME, ONDEMAND_EKS_KUBECONFIG: choose one cluster",
    ],
    [{ ONDEMAND_EKS_CLUSTER_NAME: "ci" }, "AWS_REGION: required with an EKS cluster"],
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
        ONDEMAND_EKS_CLUSTER_CA_DATA: CA_DATA,
      },
      "ONDEMAND_EKS_CLUSTER_ENDPOINT: required when ONDEMAND_EKS_CLUSTER_CA_DATA is set",
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
      {
        ONDEMAND_EKS_CLUSTER_NAME: "ci",
        AWS_REGION: "us-east-1",
        ONDEMAND_EKS_CLUSTER_ENDPOINT: "https://x/api",
        ONDEMAND_EKS_CLUSTER_CA_DATA: CA_DATA,
      },
      "ONDEMAND_EKS_CLUSTER_ENDPOINT: expected https://host[:port]",
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
      'ONDEMAND_EKS_LIBRARY_TTL_SECONDS: expected a whole number of seconds from 0 to 86400, received "5m"',
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_SQS_CONCURRENCY: "0" },
      'ONDEMAND_EKS_SQS_CONCURRENCY: expected a whole number from 1 to 100, received "0"',
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "30s" },
      'ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: expected seconds from 0.1 to 3600, received "30s"',
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_LOG_LEVEL: "loud" },
      'ONDEMAND_EKS_LOG_LEVEL: expected one of debug, info, warn, error, received "loud"',
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_NAMESPACE: "Not_A_Namespace" },
      "ONDEMAND_EKS_NAMESPACE: expected a Kubernetes namespace name",
    ],
    [
      { ONDEMAND_EKS_KUBECONFIG: "/k", ONDEMAND_EKS_AGENT_ENDPOINT: "agent.example.com/v3" },
      "ONDEMAND_EKS_AGENT_ENDPOINT: expected an absolute http:// or https:// URL without credentials",
    ],
  ])("%j is refused: %s", async (env, problem) => {
    const problems = await lambdaProblems(env as Env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it("never repeats an endpoint that carries credentials", async () => {
    const problems = await lambdaProblems({
      ONDEMAND_EKS_CLUSTER_NAME: "ci",
      AWS_REGION: "us-east-1",
      ONDEMAND_EKS_CLUSTER_ENDPOINT: "https://admin:s3cr3t@example.com",
      ONDEMAND_EKS_CLUSTER_CA_DATA: CA_DATA,
    });
    expect(problems.join("\n")).toContain("ONDEMAND_EKS_CLUSTER_ENDPOINT");
    expect(problems.join("\n")).not.toContain("s3cr3t");
  });

  it("takes an endpoint with a port", async () => {
    const { scheduler } = await lambda({
      ONDEMAND_EKS_CLUSTER_NAME: "ci",
      AWS_REGION: "us-east-1",
      ONDEMAND_EKS_CLUSTER_ENDPOINT: "https://10.0.0.1:6443",
      ONDEMAND_EKS_CLUSTER_CA_DATA: CA_DATA,
    });
    expect(scheduler.cluster).toMatchObject({ endpoint: "https://10.0.0.1:6443" });
  });

  it("reports every problem at once", async () => {
    const problems = await lambdaProblems({
      ONDEMAND_EKS_QUEUES: "a b",
      ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "-1",
    });
    expect(problems.map((problem) => problem.split(":")[0]).sort()).toEqual([
      "ONDEMAND_EKS_CLUSTER_NAME",
      "ONDEMAND_EKS_QUEUES",
      "ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS",
    ]);
  });

  it("reports every problem of an EKS cluster at once, not only the first", async () => {
    const problems = await lambdaProblems({
      ONDEMAND_EKS_CLUSTER_NAME: "my cluster!",
      AWS_REGION: "not a region",
      ONDEMAND_EKS_CLUSTER_ENDPOINT: "http://x",
      ONDEMAND_EKS_CLUSTER_CA_DATA: "bm90IGEgY2VydA==",
    });
    expect(problems.map((problem) => problem.split(":")[0]).sort()).toEqual([
      "AWS_REGION",
      "ONDEMAND_EKS_CLUSTER_CA_DATA",
      "ONDEMAND_EKS_CLUSTER_ENDPOINT",
      "ONDEMAND_EKS_CLUSTER_NAME",
    ]);
  });

  it("cuts long values short in messages", async () => {
    const [problem] = await lambdaProblems({
      ONDEMAND_EKS_KUBECONFIG: "/k",
      ONDEMAND_EKS_SQS_CONCURRENCY: "9".repeat(500),
    });
    expect(problem).toMatch(/received "9{57}\.\.\."$/);
  });

  it("whatever the variables hold, the answer is a config or every problem, each naming its variable", async () => {
    const lambdaSettings = SETTINGS.filter((declaration) => declaration.scopes.includes("lambda"));
    const names = lambdaSettings.flatMap((declaration) => declaration.env);
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom(...names),
          fc.oneof(
            fc.string(),
            fc.constantFrom("ci", "us-east-1", "/k", "s3://b-1/p", CA_DATA, "https://h"),
          ),
        ),
        async (env) => {
          try {
            await lambda(env);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidSettingsError);
            const { issues } = error as InvalidSettingsError;
            expect(issues.length).toBeGreaterThan(0);
            for (const issue of issues) {
              for (const source of issue.path.split(", ")) expect(names).toContain(source);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("readConfig: the command (config file, environment and flags)", () => {
  it("flags and environment together; relative paths from the base directory; the command's defaults", async () => {
    const { scheduler } = await readConfig({
      scope: "schedule",
      env: { ONDEMAND_EKS_QUEUES: "default,build", ONDEMAND_EKS_CONTEXT: "ci" },
      flags: { kubeconfig: "k.yaml", namespace: "ci", library: "my-pods" },
      baseDir: "/work",
    });
    expect(scheduler).toEqual({
      settings: { ...DEFAULT_SETTINGS, namespace: "ci", queues: ["default", "build"] },
      cluster: { kind: "kubeconfig", path: "/work/k.yaml", context: "ci" },
      library: { kind: "directory", path: "/work/my-pods" },
      submitTimeoutMs: 30_000,
      dryRun: false,
      logLevel: "info",
    });
  });

  it("without any cluster setting: the kubeconfig of $KUBECONFIG or ~/.kube/config, and the bundled library", async () => {
    const { scheduler } = await readConfig({ scope: "schedule", env: {} });
    expect(scheduler.cluster).toEqual({ kind: "kubeconfig" });
    expect(scheduler.library).toEqual({ kind: "bundled" });
  });

  it("flags beat the environment, which beats the config file, which beats the default", async () => {
    const { scheduler, settings } = await readConfig({
      scope: "serve-http",
      config: {
        name: "ci.yaml",
        content: {
          namespace: "from-file",
          defaultPodDefinition: "from-file",
          activeDeadlineSeconds: 60,
          logLevel: "warn",
        },
      },
      env: { ONDEMAND_EKS_NAMESPACE: "from-env", ONDEMAND_EKS_DEFAULT_POD: "from-env" },
      flags: { namespace: "from-flag" },
    });
    expect(scheduler.settings).toMatchObject({
      namespace: "from-flag",
      defaultPodDefinition: "from-env",
      activeDeadlineSeconds: 60,
      ttlSecondsAfterFinished: DEFAULT_SETTINGS.ttlSecondsAfterFinished,
    });
    expect(scheduler.logLevel).toBe("warn");
    expect(settings.origin("namespace")).toBe("--namespace");
    expect(settings.origin("defaultPodDefinition")).toBe("ONDEMAND_EKS_DEFAULT_POD");
    expect(settings.origin("activeDeadlineSeconds")).toBe("config ci.yaml: activeDeadlineSeconds");
  });

  it.each(["render", "render-deployment", "schedule", "serve-http", "consume-sqs"] as const)(
    "%s reads the agent endpoint, and leaves it unset by default",
    async (scope) => {
      const endpointOf = async (sources: { env?: Env; flags?: Record<string, string> }) =>
        (
          await readConfig({
            scope,
            // consume-sqs needs a region; the others ignore it.
            env: { AWS_REGION: "eu-west-1", ...sources.env },
            ...(sources.flags ? { flags: sources.flags } : {}),
          })
        ).scheduler.settings.agentEndpoint;
      expect(await endpointOf({})).toBeUndefined();
      expect(
        await endpointOf({ env: { ONDEMAND_EKS_AGENT_ENDPOINT: "https://proxy.example/v3" } }),
      ).toBe("https://proxy.example/v3");
      expect(
        await endpointOf({
          env: { ONDEMAND_EKS_AGENT_ENDPOINT: "https://proxy.example/v3" },
          flags: { agentEndpoint: "http://127.0.0.1:4321/v3" },
        }),
      ).toBe("http://127.0.0.1:4321/v3");
    },
  );

  it("a switch: --dry-run and --in-cluster", async () => {
    const { scheduler } = await readConfig({
      scope: "schedule",
      env: {},
      flags: { dryRun: true, inCluster: true },
    });
    expect(scheduler.dryRun).toBe(true);
    expect(scheduler.cluster).toEqual({ kind: "in-cluster" });
  });

  it("an in-cluster switch turned off in the environment chooses nothing", async () => {
    const { scheduler } = await readConfig({
      scope: "schedule",
      env: { ONDEMAND_EKS_IN_CLUSTER: "false" },
      flags: { kubeconfig: "/k" },
    });
    expect(scheduler.cluster).toEqual({ kind: "kubeconfig", path: "/k" });
  });

  it.each([
    [{ flags: { eksCluster: "ci", inCluster: true } }, "--eks-cluster, --in-cluster"],
    [
      { flags: { eksCluster: "ci" }, env: { ONDEMAND_EKS_KUBECONFIG: "/k" } },
      "--eks-cluster, ONDEMAND_EKS_KUBECONFIG",
    ],
    [
      {
        flags: { inCluster: true, context: "ci" },
        config: { name: "c.yaml", content: { kubeconfig: "/k" } },
      },
      "--in-cluster, config c.yaml: kubeconfig, --context",
    ],
    [
      { env: { ONDEMAND_EKS_CLUSTER_NAME: "ci", ONDEMAND_EKS_IN_CLUSTER: "yes" } },
      "ONDEMAND_EKS_CLUSTER_NAME, ONDEMAND_EKS_IN_CLUSTER",
    ],
  ])("conflicting cluster choices are named by their sources: %j", async (sources, named) => {
    const problems = await problemsOf({ scope: "schedule", env: {}, ...sources });
    expect(problems).toEqual([
      `${named}: choose one cluster: an EKS cluster, in-cluster, or a kubeconfig`,
    ]);
  });

  it("an EKS cluster needs a region, named by the flag that would give it", async () => {
    expect(await problemsOf({ scope: "schedule", env: {}, flags: { eksCluster: "ci" } })).toEqual([
      "--region: required with an EKS cluster (or set AWS_REGION or AWS_DEFAULT_REGION)",
    ]);
    const { scheduler } = await readConfig({
      scope: "schedule",
      env: { AWS_DEFAULT_REGION: "eu-west-1" },
      flags: { eksCluster: "ci" },
    });
    expect(scheduler.cluster).toEqual({ kind: "eks", clusterName: "ci", region: "eu-west-1" });
  });

  it("an EKS cluster's endpoint and CA from flags", async () => {
    const { scheduler } = await readConfig({
      scope: "serve-http",
      env: {},
      flags: {
        eksCluster: "ci",
        region: "us-east-1",
        eksEndpoint: "https://h:443",
        eksCaData: CA_DATA,
      },
    });
    expect(scheduler.cluster).toEqual({
      kind: "eks",
      clusterName: "ci",
      region: "us-east-1",
      endpoint: "https://h:443",
      caPem: PEM,
    });
    expect(
      await problemsOf({
        scope: "serve-http",
        env: {},
        flags: { eksCluster: "ci", region: "us-east-1", eksEndpoint: "https://h" },
      }),
    ).toEqual([
      "--eks-ca-data: required when --eks-endpoint is set (set both, or neither to use DescribeCluster)",
    ]);
  });

  it.each([
    ["s3://my-bucket/a/b", 300, { bucket: "my-bucket", prefix: "a/b/", ttlMs: 300_000 }],
    ["s3://my-bucket/a/", 0, { bucket: "my-bucket", prefix: "a/", ttlMs: 0 }],
    ["s3://my.bucket-1", 60, { bucket: "my.bucket-1", prefix: "", ttlMs: 60_000 }],
  ])("an S3 library from a flag: %s", async (library, ttl, expected) => {
    const { scheduler } = await readConfig({
      scope: "serve-http",
      env: {},
      flags: { library, libraryTtlSeconds: String(ttl) },
    });
    expect(scheduler.library).toEqual({ kind: "s3", ...expected });
  });

  it.each(["s3://", "s3:/bucket", "s3://ab", "s3://-bucket/p", "s3://Bucket/p"])(
    "refuses an S3 library that names no valid bucket: %s",
    async (library) => {
      expect(await problemsOf({ scope: "render", env: {}, flags: { library } })).toEqual([
        `--library: expected s3://bucket/prefix/ or a directory, received ${JSON.stringify(library)}`,
      ]);
    },
  );

  it("render reaches no cluster, whatever cluster settings it is given", async () => {
    const { scheduler } = await readConfig({
      scope: "render",
      env: { ONDEMAND_EKS_CLUSTER_NAME: "ci" },
      flags: { eksCluster: "ci", inCluster: true },
    });
    expect(scheduler.cluster).toBeUndefined();
  });

  it("reports every problem at once, from every source, each with its source", async () => {
    const problems = await problemsOf({
      scope: "schedule",
      config: { name: "ci.yaml", content: { queues: ["default", "a b"], bogus: 1 } },
      env: { ONDEMAND_EKS_LIBRARY: "s3://No_Such" },
      flags: { namespace: "Not_A_Namespace", eksCluster: "my cluster!", submitTimeoutSeconds: "0" },
    });
    expect(problems.map((problem) => problem.split(": ")[0]).sort()).toEqual([
      "--eks-cluster",
      "--namespace",
      "--region",
      "--timeout",
      "ONDEMAND_EKS_LIBRARY",
      "config ci.yaml",
      "config ci.yaml",
    ]);
    expect(problems).toContain("config ci.yaml: bogus: not a setting a config file may hold");
    expect(problems).toContain(
      "config ci.yaml: queues: expected a queue name without spaces, commas or =",
    );
  });
});

describe("readConfig: relative paths", () => {
  it("are taken from the config file that set them, else from baseDir", async () => {
    // Act
    const fromFile = await readConfig({
      scope: "schedule",
      env: {},
      baseDir: "/work",
      config: { name: "ci/settings.yaml", content: { library: "pods", kubeconfig: "kube.yaml" } },
    });
    const fromFlags = await readConfig({
      scope: "schedule",
      env: {},
      baseDir: "/work",
      flags: { library: "pods", kubeconfig: "kube.yaml" },
    });
    // Assess
    expect(fromFile.scheduler.library).toEqual({ kind: "directory", path: "/work/ci/pods" });
    expect(fromFile.scheduler.cluster).toEqual({ kind: "kubeconfig", path: "/work/ci/kube.yaml" });
    expect(fromFlags.scheduler.library).toEqual({ kind: "directory", path: "/work/pods" });
    expect(fromFlags.scheduler.cluster).toEqual({ kind: "kubeconfig", path: "/work/kube.yaml" });
  });
});
