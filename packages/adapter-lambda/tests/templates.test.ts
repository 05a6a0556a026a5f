import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  parseClusterTokenArn,
  readControllerLambdaConfig,
  readLambdaConfig,
} from "@ondemand-eks/adapter-lambda/runtime";
import {
  type CfnTemplate,
  cfnLint,
  ensureCfnLint,
  readCfnTemplate,
  renderCfnTemplate,
  skipUnlessCi,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { describe, expect, it } from "vitest";

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "deploy", "lambda");
const TEMPLATES = ["eventbridge.yaml", "sqs.yaml", "controller.yaml"].map((name) =>
  join(DEPLOY, name),
);
/** Each template's function and role, by logical id. */
const FUNCTIONS: Record<string, { fn: string; role: string }> = {
  "eventbridge.yaml": { fn: "Scheduler", role: "SchedulerRole" },
  "sqs.yaml": { fn: "Scheduler", role: "SchedulerRole" },
  "controller.yaml": { fn: "Controller", role: "ControllerRole" },
};
const ids = (path: string) => FUNCTIONS[basename(path)] as { fn: string; role: string };
/** The bundle's entries, by the file part of a handler (`index.sqs`, `controller.handler`). */
const ENTRIES: Record<string, string> = {
  index: "src/lambda-entry.ts",
  controller: "src/controller-entry.ts",
};

type Node = CfnTemplate;
const template = readCfnTemplate;

const lint = await skipUnlessCi(() => ensureCfnLint());

describeWith(lint, "Lambda templates pass cfn-lint", () => {
  it("has no finding, warnings included, in any template", async () => {
    const result = await cfnLint(TEMPLATES);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("would report a broken reference (the check is live)", async () => {
    const { writeFile, mkdtemp } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(join(tmpdir(), "cfn-"));
    const broken = join(dir, "broken.yaml");
    const text = await readFile(TEMPLATES[1] as string, "utf8");
    await writeFile(
      broken,
      text.replace("Role: !GetAtt SchedulerRole.Arn", "Role: !GetAtt SchedulerRol.Arn"),
    );
    const result = await cfnLint([broken]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("SchedulerRol");
  });
});

describe("Lambda templates say what the handlers need", () => {
  it.each(TEMPLATES)(
    "%s: a supported Node runtime, the bundle, and a handler it exports",
    async (path) => {
      const fn = (await template(path)).Resources[ids(path).fn].Properties;
      expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
      expect(fn.Code).toBe("../../packages/adapter-lambda/dist/lambda");
      const [file, exported] = fn.Handler.split(".");
      expect(ENTRIES[file]).toBeDefined();
      const entry = await readFile(
        join(DEPLOY, "..", "..", "packages/adapter-lambda", ENTRIES[file] as string),
        "utf8",
      );
      expect(entry).toContain(`export const ${exported} =`);
      // Lambda's timeout must not cut a submission short of its own deadline.
      const { scheduler } = await readLambdaConfig({ ONDEMAND_EKS_KUBECONFIG: "/k" });
      expect(fn.Timeout * 1000).toBeGreaterThan(scheduler.submitTimeoutMs);
    },
  );

  it.each(TEMPLATES)(
    "%s: the role names every resource it may touch, and holds no managed policy",
    async (path) => {
      const role = (await template(path)).Resources[ids(path).role].Properties;
      expect(role.ManagedPolicyArns).toBeUndefined();
      const statements = JSON.stringify(role.Policies);
      expect(statements).not.toMatch(/"Resource":\s*"\*"/);
      expect(statements).not.toMatch(/"Action":\s*"[a-z0-9]+:\*"/);
    },
  );

  it.each(TEMPLATES)(
    "%s: ClusterEndpoint and ClusterCaData reach the function together, and then drop DescribeCluster",
    async (path) => {
      const t = await template(path);
      const given = (parameter: string) => ({
        "Fn::If": ["ClusterGiven", { Ref: parameter }, { Ref: "AWS::NoValue" }],
      });
      const variables = t.Resources[ids(path).fn].Properties.Environment.Variables;
      expect(variables.ONDEMAND_EKS_CLUSTER_ENDPOINT).toEqual(given("ClusterEndpoint"));
      expect(variables.ONDEMAND_EKS_CLUSTER_CA_DATA).toEqual(given("ClusterCaData"));
      const statements: Node[] =
        t.Resources[ids(path).role].Properties.Policies[0].PolicyDocument.Statement;
      const grant = statements.find((statement) =>
        JSON.stringify(statement).includes("eks:DescribeCluster"),
      );
      expect(grant?.["Fn::If"]?.slice(0, 2)).toEqual(["ClusterGiven", { Ref: "AWS::NoValue" }]);
      // What the parameters allow, the function accepts.
      const endpoint = "https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com";
      const ca = Buffer.from(
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      ).toString("base64");
      expect(endpoint).toMatch(new RegExp(`^${t.Parameters.ClusterEndpoint.AllowedPattern}$`));
      expect(ca).toMatch(new RegExp(`^${t.Parameters.ClusterCaData.AllowedPattern}$`));
      const config = await readLambdaConfig({
        ONDEMAND_EKS_CLUSTER_NAME: "ci",
        AWS_REGION: "us-west-2",
        ONDEMAND_EKS_CLUSTER_ENDPOINT: endpoint,
        ONDEMAND_EKS_CLUSTER_CA_DATA: ca,
      });
      expect(config.scheduler.cluster).toMatchObject({ kind: "eks", endpoint });
    },
  );

  it("EventBridge -> Lambda: Lambda's default two retries, then the on-failure destination", async () => {
    const resources = (await template(TEMPLATES[0] as string)).Resources;
    const invoke = resources.SchedulerInvokeConfig.Properties;
    expect(invoke.MaximumRetryAttempts).toBe(2);
    expect(invoke.DestinationConfig.OnFailure.Destination).toEqual({
      "Fn::GetAtt": "FailedEvents.Arn",
    });
    expect(resources.JobScheduledRule.Properties.EventPattern).toEqual({
      "detail-type": ["Job Scheduled"],
    });
    expect(resources.JobScheduledRule.Properties.Targets[0].Arn).toEqual({
      "Fn::GetAtt": "Scheduler.Arn",
    });
  });

  it("EventBridge -> SQS -> Lambda: partial batch failures, and a redrive after five receives", async () => {
    const resources = (await template(TEMPLATES[1] as string)).Resources;
    expect(resources.JobsSource.Properties.FunctionResponseTypes).toEqual([
      "ReportBatchItemFailures",
    ]);
    expect(resources.JobsQueue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    // Six times the function's timeout, as Lambda advises, so a batch in progress is not
    // handed out twice.
    expect(resources.JobsQueue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * resources.Scheduler.Properties.Timeout,
    );
  });

  it("controller: a schedule rule runs controller.handler, one pass at a time, never retried", async () => {
    // Prepare
    const t = await template(join(DEPLOY, "controller.yaml"));
    const resources = t.Resources;
    // Assess
    const fn = resources.Controller.Properties;
    expect(fn.Handler).toBe("controller.handler");
    expect(fn.ReservedConcurrentExecutions).toBe(1);
    expect(t.Parameters.Schedule.Default).toBe("rate(1 minute)");
    // A pass ends before the next one is due.
    expect(fn.Timeout).toBeLessThanOrEqual(60);
    const rule = resources.PassSchedule.Properties;
    expect(rule.ScheduleExpression).toEqual({ Ref: "Schedule" });
    expect(rule.Targets[0].Arn).toEqual({ "Fn::GetAtt": "Controller.Arn" });
    expect(resources.SchedulePermission.Properties).toMatchObject({
      Principal: "events.amazonaws.com",
      SourceArn: { "Fn::GetAtt": "PassSchedule.Arn" },
    });
    // The next pass is the retry; a throttled one is dropped, not queued.
    expect(resources.ControllerInvokeConfig.Properties).toMatchObject({
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
    expect(resources.ControllerAccessEntry.Properties.KubernetesGroups).toEqual([
      "ondemand-eks:controller",
    ]);
  });

  it("controller: the role may read the one token ARN, with the one action its service needs", async () => {
    // Prepare
    const t = await template(join(DEPLOY, "controller.yaml"));
    const statements: Node[] =
      t.Resources.ControllerRole.Properties.Policies[0].PolicyDocument.Statement;
    const arn = { Ref: "ClusterTokenArn" };
    // Assess: the service is the ARN's third field.
    expect(t.Conditions.TokenInSecretsManager).toEqual({
      "Fn::Equals": [{ "Fn::Select": [2, { "Fn::Split": [":", arn] }] }, "secretsmanager"],
    });
    const grants = statements
      .filter((s) => s["Fn::If"]?.[0] === "TokenInSecretsManager")
      .map((s) => s["Fn::If"].slice(1));
    expect(grants).toEqual([
      [
        { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arn },
        { Ref: "AWS::NoValue" },
      ],
      [{ Ref: "AWS::NoValue" }, { Effect: "Allow", Action: "ssm:GetParameter", Resource: arn }],
    ]);
    // kms:Decrypt only for a customer managed key, and only through the token's service.
    const decrypt = statements.find((s) => s["Fn::If"]?.[0] === "TokenKeyGiven")?.["Fn::If"];
    expect(decrypt?.[1]).toMatchObject({
      Action: "kms:Decrypt",
      Resource: { Ref: "ClusterTokenKeyArn" },
      Condition: { StringEquals: { "kms:ViaService": expect.anything() } },
    });
    expect(decrypt?.[2]).toEqual({ Ref: "AWS::NoValue" });
    expect(JSON.stringify(statements)).not.toContain("secretsmanager:*");
    const variables = t.Resources.Controller.Properties.Environment.Variables;
    expect(variables.ONDEMAND_EKS_CLUSTER_TOKEN_ARN).toEqual(arn);
  });

  it.each([
    ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:buildkite/token-AbC123", true],
    ["arn:aws:ssm:eu-west-1:123456789012:parameter/buildkite/token", true],
    ["arn:aws:ssm:eu-west-1:123456789012:parameter/token", true],
    // A partial secret ARN: the role's grant would not match the secret's real ARN.
    ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:buildkite/token", false],
    ["arn:aws:s3:::bucket/token", false],
  ])(
    "controller: ClusterTokenArn %s allowed: %s, and then the function reads it",
    async (arn, ok) => {
      const t = await template(join(DEPLOY, "controller.yaml"));
      const allowed = new RegExp(`^${t.Parameters.ClusterTokenArn.AllowedPattern}$`).test(arn);
      expect(allowed).toBe(ok);
      if (!ok) return;
      expect(parseClusterTokenArn(arn)).toBeDefined();
      const config = await readControllerLambdaConfig({
        ONDEMAND_EKS_CLUSTER_NAME: "ci",
        AWS_REGION: "eu-west-1",
        ONDEMAND_EKS_CLUSTER_TOKEN_ARN: arn,
      });
      expect(config.token).toEqual({ kind: "arn", arn });
    },
  );

  it.each(TEMPLATES.slice(0, 2))(
    "%s: an optional ClusterTokenArn; given, the role may read that one ARN, else nothing",
    async (path) => {
      // Prepare
      const t = await template(path);
      const arn = { Ref: "ClusterTokenArn" };
      const statements: Node[] =
        t.Resources.SchedulerRole.Properties.Policies[0].PolicyDocument.Statement;
      const grant = (condition: string) =>
        statements.find((s) => s["Fn::If"]?.[0] === condition)?.["Fn::If"].slice(1);
      // Assess: empty (the default) is allowed, and then the variable is not set at all.
      const allowed = new RegExp(`^${t.Parameters.ClusterTokenArn.AllowedPattern}$`);
      expect(t.Parameters.ClusterTokenArn.Default).toBe("");
      expect(allowed.test("")).toBe(true);
      expect(allowed.test("arn:aws:ssm:eu-west-1:123456789012:parameter/buildkite/token")).toBe(
        true,
      );
      expect(allowed.test("arn:aws:secretsmanager:eu-west-1:123456789012:secret:token")).toBe(
        false,
      );
      expect(t.Conditions.TokenGiven).toEqual({ "Fn::Not": [{ "Fn::Equals": [arn, ""] }] });
      const variables = t.Resources.Scheduler.Properties.Environment.Variables;
      expect(variables.ONDEMAND_EKS_CLUSTER_TOKEN_ARN).toEqual({
        "Fn::If": ["TokenGiven", arn, { Ref: "AWS::NoValue" }],
      });
      // Each grant is conditioned on the ARN's service, which an empty ARN has none of.
      expect(grant("TokenInSecretsManager")).toEqual([
        { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arn },
        { Ref: "AWS::NoValue" },
      ]);
      expect(grant("TokenInParameterStore")).toEqual([
        { Effect: "Allow", Action: "ssm:GetParameter", Resource: arn },
        { Ref: "AWS::NoValue" },
      ]);
      expect(grant("TokenKeyGiven")?.[0]).toMatchObject({ Action: "kms:Decrypt" });
      expect(t.Conditions.TokenKeyGiven["Fn::And"]).toContainEqual({ Condition: "TokenGiven" });
    },
  );

  it.each(TEMPLATES)(
    "%s: a library in S3 under a customer managed key is decrypted through S3 only, with that key alone",
    async (path) => {
      // Prepare
      const t = await template(path);
      const key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab";
      const parameters = {
        ClusterName: "ci",
        EventBusName: "aws.partner/buildkite.com/acme/x",
        ClusterTokenArn: "arn:aws:ssm:eu-west-1:123456789012:parameter/buildkite/token",
        PodLibraryBucket: "library",
      };
      /** Every kms:Decrypt the role gets (the token's key is not given: none is the token's). */
      const decrypts = (given: Record<string, string>) => {
        const rendered = renderCfnTemplate(t, {
          region: "eu-west-1",
          parameters: { ...parameters, ...given },
        });
        const policies: Node[] = rendered.Resources[ids(path).role].Properties.Policies;
        return policies
          .flatMap((policy) => policy.PolicyDocument.Statement as Node[])
          .filter((statement) => statement.Action === "kms:Decrypt");
      };
      // Act
      const given = decrypts({ PodLibraryKeyArn: key });
      const empty = decrypts({ PodLibraryKeyArn: "" });
      const bundled = decrypts({ PodLibraryBucket: "", PodLibraryKeyArn: key });
      // Assess
      const allowed = new RegExp(`^${t.Parameters.PodLibraryKeyArn.AllowedPattern}$`);
      expect(t.Parameters.PodLibraryKeyArn.Default).toBe("");
      expect(allowed.test("")).toBe(true);
      expect(allowed.test(key)).toBe(true);
      expect(allowed.test("arn:aws:kms:eu-west-1:123456789012:alias/library")).toBe(false);
      expect(given).toEqual([
        {
          Effect: "Allow",
          Action: "kms:Decrypt",
          Resource: key,
          Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
        },
      ]);
      // No key, or no library in S3 (the key alone is ignored): no kms:Decrypt at all.
      expect(empty).toEqual([]);
      expect(bundled).toEqual([]);
    },
  );
});
