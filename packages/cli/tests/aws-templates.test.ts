import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetBucketEncryptionCommand, S3Client } from "@aws-sdk/client-s3";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { LABELS } from "@ondemand-eks/core";
import {
  type CfnTemplate,
  cfnLint,
  ensureAwsCli,
  ensureCfnLint,
  jobScheduledDetail,
  readCfnTemplate,
  renderCfnTemplate,
  skipUnlessCi,
  startMoto,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";

// deploy/aws/: the CloudFormation for the in-cluster routes and the elastic-ci-stack and
// Fargate compute. Linted, read for the properties each template promises (encryption,
// trust narrowed to one ServiceAccount, the consumer's exact calls, the node group's
// taint), and the bucket, pod role and SQS route deployed to moto, where a Job Scheduled
// event put on the bus has to reach the queue.

const REPO = new URL("../../../", import.meta.url).pathname;
const AWS_DIR = join(REPO, "deploy", "aws");
const path = (name: string) => join(AWS_DIR, name);
const NAMES = [
  "secrets-bucket.yaml",
  "pod-role.yaml",
  "sqs-consumer.yaml",
  "node-group.yaml",
  "fargate-profile.yaml",
];
const TEMPLATES = NAMES.map(path);

/** The shared decisions of issue 17: the privileged node group's taint and label. */
const PRIVILEGED_TAINT = {
  Key: "ondemand-eks.io/privileged",
  Value: "true",
  Effect: "NO_SCHEDULE",
};
const PRIVILEGED_LABEL = { "ondemand-eks.io/node-group": "privileged" };

const ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${ISSUER}`;

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
};
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** A ServiceAccount manifest's namespace and name. */
async function serviceAccount(relative: string): Promise<{ namespace: string; name: string }> {
  const account = parseYaml(await readFile(join(REPO, relative), "utf8"));
  return { namespace: account.metadata.namespace, name: account.metadata.name };
}

/** Every Allow statement a role gets: its inline policies and the AWS::IAM::Policy resources naming it. */
function grants(t: CfnTemplate, role: string): Statement[] {
  const inline = (t.Resources[role].Properties.Policies ?? []) as CfnTemplate[];
  const attached = Object.values<CfnTemplate>(t.Resources)
    .filter((r) => r.Type === "AWS::IAM::Policy")
    .filter((r) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: role }]))
    .map((r) => r.Properties);
  return [...inline, ...attached].flatMap((p) => p.PolicyDocument.Statement as Statement[]);
}

/** The trust policy, parsed when IRSA's branch made it a JSON string. */
function trust(t: CfnTemplate, role: string): Statement[] {
  const document = t.Resources[role].Properties.AssumeRolePolicyDocument;
  return (typeof document === "string" ? JSON.parse(document) : document).Statement;
}

/** Every .ts file under `dir`, recursively. */
async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((name) => name.endsWith(".ts")).map((name) => join(dir, name));
}

/** The S3 calls of the pod library and the runtime that builds it: `new <Call>Command(`. */
async function s3LibraryCalls(): Promise<string[]> {
  const files = [
    ...(await sources(join(REPO, "packages", "pod-library", "src"))),
    ...(await sources(join(REPO, "packages", "runtime", "src"))),
  ];
  const called = new Set<string>();
  for (const file of files) {
    const text = await readFile(file, "utf8");
    if (!text.includes('"@aws-sdk/client-s3"')) continue;
    for (const match of text.matchAll(/new (\w+)Command\(/g)) called.add(match[1] as string);
  }
  return [...called].sort();
}

/** The SQS actions the consumer's code sends: `new <Action>Command(`. */
async function consumerCalls(): Promise<string[]> {
  const files = [
    ...(await sources(join(REPO, "packages", "adapter-sqs", "src"))),
    join(REPO, "packages", "cli", "src", "commands", "consume-sqs.ts"),
  ];
  const called = new Set<string>();
  for (const file of files) {
    for (const match of (await readFile(file, "utf8")).matchAll(/new (\w+)Command\(/g)) {
      called.add(`sqs:${match[1]}`);
    }
  }
  return [...called].sort();
}

const lint = await skipUnlessCi(() => ensureCfnLint());

describeWith(lint, "deploy/aws templates pass cfn-lint", () => {
  it("has no finding, warnings included, in any template", async () => {
    const result = await cfnLint(TEMPLATES);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("would report a broken reference and a misspelt taint effect (the check is live)", async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), "cfn-aws-"));
    const broken = join(dir, "node-group.yaml");
    const text = await readFile(path("node-group.yaml"), "utf8");
    await writeFile(
      broken,
      text
        .replace("NodeRole: !GetAtt NodeRole.Arn", "NodeRole: !GetAtt NodeRol.Arn")
        .replace("Effect: NO_SCHEDULE", "Effect: NoSchedule"),
    );
    // Act
    const result = await cfnLint([broken]);
    await rm(dir, { recursive: true, force: true });
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("NodeRol");
    expect(result.output).toContain("NoSchedule");
  });
});

describe("deploy/aws templates say what they promise", () => {
  it.each(NAMES)(
    "%s: a description, described and constrained parameters, no wildcard action granted",
    async (name) => {
      const t = await readCfnTemplate(path(name));
      expect(t.Description).toEqual(expect.any(String));
      for (const [id, parameter] of Object.entries<CfnTemplate>(t.Parameters)) {
        expect(parameter.Description, id).toEqual(expect.any(String));
        const constrained =
          parameter.AllowedPattern ?? parameter.AllowedValues ?? parameter.MinValue;
        // A List<AWS::EC2::Subnet::Id> is checked by CloudFormation itself.
        if (!parameter.Type.startsWith("List<AWS::")) expect(constrained, id).toBeDefined();
      }
      // Every Allow names its actions. "*" as a resource only where the action has none,
      // or in a key policy, where it means the key itself (granted to the account).
      const allows = collectStatements(t.Resources).filter((s) => s.Effect === "Allow");
      for (const statement of allows) {
        for (const action of actions(statement)) expect(action).not.toMatch(/\*/);
        if (
          statement.Resource === "*" &&
          !JSON.stringify(statement.Principal ?? "").includes(":root")
        ) {
          expect(actions(statement)).toEqual(["ecr:GetAuthorizationToken"]);
        }
      }
    },
  );

  it("secrets-bucket.yaml: SSE-KMS with a bucket key, no public access, versions, no ACLs, TLS only", async () => {
    // Prepare
    const t = await readCfnTemplate(path("secrets-bucket.yaml"));
    const bucket = t.Resources.SecretsBucket.Properties;
    // Assess: its own key unless one is given, and S3's bucket key in front of it.
    const [rule] = bucket.BucketEncryption.ServerSideEncryptionConfiguration;
    expect(rule).toEqual({
      ServerSideEncryptionByDefault: {
        SSEAlgorithm: "aws:kms",
        KMSMasterKeyID: {
          "Fn::If": ["CreateKey", { "Fn::GetAtt": "SecretsKey.Arn" }, { Ref: "KmsKeyArn" }],
        },
      },
      BucketKeyEnabled: true,
    });
    expect(t.Resources.SecretsKey.Properties.EnableKeyRotation).toBe(true);
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.VersioningConfiguration).toEqual({ Status: "Enabled" });
    expect(bucket.OwnershipControls.Rules).toEqual([{ ObjectOwnership: "BucketOwnerEnforced" }]);
    // Every request without TLS is refused, on the bucket and on every object.
    const policy = t.Resources.SecretsBucketPolicy.Properties;
    expect(policy.Bucket).toEqual({ Ref: "SecretsBucket" });
    expect(policy.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [
          { "Fn::GetAtt": "SecretsBucket.Arn" },
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax.
          { "Fn::Sub": "${SecretsBucket.Arn}/*" },
        ],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    ]);
    expect(Object.keys(t.Outputs).sort()).toEqual(["BucketName", "KeyArn"]);
  });

  it.each([
    ["pod-role.yaml", "PodRole", "deploy/kubernetes/base/elastic-ci-stack-serviceaccount.yaml"],
    ["sqs-consumer.yaml", "ConsumerRole", "deploy/kubernetes/sqs-consumer/serviceaccount.yaml"],
  ])(
    "%s: %s trusts exactly the ServiceAccount in %s, through IRSA or Pod Identity",
    async (file, role, manifest) => {
      // Prepare
      const account = await serviceAccount(manifest);
      const t = await readCfnTemplate(path(file));
      const base = {
        ClusterName: "ci",
        SecretsBucket: "secrets",
        EventBusName: "aws.partner/buildkite.com/acme/x",
      };
      // Act: the defaults, as a user deploys them.
      const irsa = renderCfnTemplate(t, { parameters: { ...base, OidcProviderArn: PROVIDER } });
      // Assess: web identity from that provider, for that one subject and STS alone.
      expect(trust(irsa, role)).toEqual([
        {
          Effect: "Allow",
          Principal: { Federated: PROVIDER },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${ISSUER}:sub`]: `system:serviceaccount:${account.namespace}:${account.name}`,
              [`${ISSUER}:aud`]: "sts.amazonaws.com",
            },
          },
        },
      ]);
      expect(irsa.Resources.PodIdentityAssociation).toBeUndefined();
      // Pod Identity: the service, for sessions tagged with that account only, and the
      // association for it.
      const pods = renderCfnTemplate(t, { parameters: { ...base, Identity: "pod-identity" } });
      expect(trust(pods, role)).toEqual([
        {
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Condition: {
            StringEquals: {
              "aws:SourceAccount": "123456789012",
              "aws:RequestTag/eks-cluster-name": "ci",
              "aws:RequestTag/kubernetes-namespace": account.namespace,
              "aws:RequestTag/kubernetes-service-account": account.name,
            },
          },
        },
      ]);
      expect(pods.Resources.PodIdentityAssociation.Properties).toEqual({
        ClusterName: "ci",
        Namespace: account.namespace,
        ServiceAccount: account.name,
        RoleArn: { "Fn::GetAtt": `${role}.Arn` },
      });
      // IRSA without a provider is refused before anything is created.
      expect(t.Rules.IrsaNeedsProvider.Assertions[0].Assert).toEqual({
        "Fn::Not": [{ "Fn::Equals": [{ Ref: "OidcProviderArn" }, ""] }],
      });
    },
  );

  it("pod-role.yaml: reads the secrets, decrypts through S3 only, logs in to ECR and pulls the named repositories", async () => {
    // Prepare
    const t = await readCfnTemplate(path("pod-role.yaml"));
    const key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab";
    const repos = [
      "arn:aws:ecr:eu-west-1:123456789012:repository/app",
      "arn:aws:ecr:eu-west-1:123456789012:repository/base/*",
    ];
    const parameters = { ClusterName: "ci", OidcProviderArn: PROVIDER, SecretsBucket: "secrets" };
    // Act
    const all = renderCfnTemplate(t, {
      region: "eu-west-1",
      parameters: { ...parameters, SecretsKeyArn: key, EcrRepositoryArns: repos.join(",") },
    });
    const least = renderCfnTemplate(t, { parameters: { ...parameters, EcrLogin: "false" } });
    // Assess
    expect(
      new RegExp(`^${t.Parameters.EcrRepositoryArns.AllowedPattern}$`).test(repos.join(",")),
    ).toBe(true);
    expect(grants(all, "PodRole")).toEqual([
      { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::secrets/*" },
      { Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::secrets" },
      {
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: key,
        Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
      },
      { Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
      {
        Effect: "Allow",
        Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        Resource: repos,
      },
    ]);
    // No key (S3-managed encryption), no ECR: the bucket alone.
    expect(grants(least, "PodRole").flatMap(actions)).toEqual(["s3:GetObject", "s3:ListBucket"]);
  });

  it("sqs-consumer.yaml: the role may do exactly what the consumer calls, on its queue, as sqs-consumer-policy.json says", async () => {
    // Prepare
    const t = renderCfnTemplate(await readCfnTemplate(path("sqs-consumer.yaml")), {
      parameters: {
        ClusterName: "ci",
        OidcProviderArn: PROVIDER,
        EventBusName: "aws.partner/buildkite.com/acme/x",
      },
    });
    const policy = JSON.parse(await readFile(path("sqs-consumer-policy.json"), "utf8"));
    // Assess
    const statements = grants(t, "ConsumerRole");
    expect(statements.flatMap(actions).sort()).toEqual(await consumerCalls());
    for (const statement of statements) {
      expect(statement.Resource).toEqual({ "Fn::GetAtt": "JobsQueue.Arn" });
    }
    // The JSON file for those who write their own: the same statements, another queue.
    const shape = (s: Statement) => ({ Sid: s.Sid, Effect: s.Effect, Action: s.Action });
    expect(policy.Statement.map(shape)).toEqual(statements.map(shape));
    // No library bucket, no S3.
    expect(t.Resources.PodLibraryPolicy).toBeUndefined();
  });

  it("sqs-consumer.yaml: with a library in S3, lists its prefix and reads under it, what s3-library.ts calls", async () => {
    // Prepare
    const t = renderCfnTemplate(await readCfnTemplate(path("sqs-consumer.yaml")), {
      parameters: {
        ClusterName: "ci",
        OidcProviderArn: PROVIDER,
        EventBusName: "aws.partner/buildkite.com/acme/x",
        PodLibraryBucket: "library",
      },
    });
    // ListObjectsV2 is authorised as s3:ListBucket; any other call as itself.
    const iam = (call: string) => (call === "ListObjectsV2" ? "s3:ListBucket" : `s3:${call}`);
    const called = (await s3LibraryCalls()).map(iam);
    // Assess
    const statements = t.Resources.PodLibraryPolicy.Properties.PolicyDocument.Statement;
    expect(statements.flatMap(actions).sort()).toEqual([...called].sort());
    expect(statements).toEqual([
      {
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::library",
        Condition: { StringLike: { "s3:prefix": "pods/*" } },
      },
      { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::library/pods/*" },
    ]);
  });

  it("sqs-consumer.yaml: a library under a customer managed key is decrypted through S3 only, with that key alone", async () => {
    // Prepare
    const t = await readCfnTemplate(path("sqs-consumer.yaml"));
    const key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab";
    const parameters = {
      ClusterName: "ci",
      OidcProviderArn: PROVIDER,
      EventBusName: "aws.partner/buildkite.com/acme/x",
      PodLibraryBucket: "library",
    };
    /** Every kms:Decrypt the consumer's role gets, inline or attached. */
    const decrypts = (given: Record<string, string>) =>
      grants(
        renderCfnTemplate(t, { region: "eu-west-1", parameters: { ...parameters, ...given } }),
        "ConsumerRole",
      ).filter((statement) => actions(statement).includes("kms:Decrypt"));
    // Act
    const withKey = decrypts({ PodLibraryKeyArn: key });
    const withoutKey = decrypts({ PodLibraryKeyArn: "" });
    const noLibrary = decrypts({ PodLibraryBucket: "", PodLibraryKeyArn: key });
    // Assess
    const allowed = new RegExp(`^${t.Parameters.PodLibraryKeyArn.AllowedPattern}$`);
    expect(t.Parameters.PodLibraryKeyArn.Default).toBe("");
    expect(allowed.test("")).toBe(true);
    expect(allowed.test(key)).toBe(true);
    expect(allowed.test("arn:aws:kms:eu-west-1:123456789012:alias/library")).toBe(false);
    expect(withKey).toEqual([
      {
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: key,
        Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
      },
    ]);
    // No key (S3-managed or aws/s3), or no library in S3 (the key alone is ignored): none.
    expect(withoutKey).toEqual([]);
    expect(noLibrary).toEqual([]);
  });

  it("sqs-consumer.yaml: only the rule may send, to the queue and its dead-letter queue; the rule is the Lambda route's", async () => {
    // Prepare
    const t = await readCfnTemplate(path("sqs-consumer.yaml"));
    const lambda = await readCfnTemplate(join(REPO, "deploy", "lambda", "sqs.yaml"));
    const queues = [{ "Fn::GetAtt": "JobsQueue.Arn" }, { "Fn::GetAtt": "DeadLetterQueue.Arn" }];
    // Assess
    const policy = t.Resources.QueuePolicy.Properties;
    expect(policy.Queues).toEqual([{ Ref: "JobsQueue" }, { Ref: "DeadLetterQueue" }]);
    expect(policy.PolicyDocument.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queues,
        Condition: { ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": "JobScheduledRule.Arn" } } },
      },
    ]);
    // The same rule, queue settings aside, as deploy/lambda/sqs.yaml: Job Scheduled only,
    // retried for an hour, then the dead-letter queue; redriven after five receives.
    const rule = t.Resources.JobScheduledRule.Properties;
    expect(rule).toEqual(lambda.Resources.JobScheduledRule.Properties);
    expect(rule.EventPattern).toEqual({ "detail-type": ["Job Scheduled"] });
    const queue = t.Resources.JobsQueue.Properties;
    expect(queue.RedrivePolicy).toEqual(lambda.Resources.JobsQueue.Properties.RedrivePolicy);
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(t.Resources.DeadLetterQueue.Properties.SqsManagedSseEnabled).toBe(true);
    expect(Object.keys(t.Outputs)).toEqual(expect.arrayContaining(["QueueUrl", "RoleArn"]));
  });

  it("node-group.yaml: the shared taint and label, the three node policies, a large encrypted disk, IMDS one hop", async () => {
    // Prepare
    const t = await readCfnTemplate(path("node-group.yaml"));
    const nodes = t.Resources.PrivilegedNodeGroup.Properties;
    // Assess
    expect(nodes.Taints).toEqual([PRIVILEGED_TAINT]);
    expect(nodes.Labels).toEqual(PRIVILEGED_LABEL);
    const policy = (name: string) => ({
      "Fn::Sub": `arn:\${AWS::Partition}:iam::aws:policy/${name}`,
    });
    expect(t.Resources.NodeRole.Properties.ManagedPolicyArns).toEqual([
      policy("AmazonEKSWorkerNodePolicy"),
      policy("AmazonEC2ContainerRegistryPullOnly"),
      { "Fn::If": ["CniOnNodeRole", policy("AmazonEKS_CNI_Policy"), { Ref: "AWS::NoValue" }] },
    ]);
    expect(t.Resources.NodeRole.Properties.Policies).toBeUndefined();
    const template = t.Resources.NodeLaunchTemplate.Properties.LaunchTemplateData;
    expect(template.BlockDeviceMappings[0].Ebs).toMatchObject({
      VolumeSize: { Ref: "DiskSize" },
      Encrypted: true,
    });
    expect(t.Parameters.DiskSize.Default).toBeGreaterThanOrEqual(100);
    expect(template.MetadataOptions).toMatchObject({
      HttpTokens: "required",
      HttpPutResponseHopLimit: 1,
    });
  });

  it("fargate-profile.yaml: selects the scheduler's compute label in both job namespaces, for this cluster's profiles only", async () => {
    // Prepare
    const t = renderCfnTemplate(await readCfnTemplate(path("fargate-profile.yaml")), {
      parameters: { ClusterName: "ci", Subnets: "subnet-0123" },
    });
    // Assess: the label core puts on a compute: fargate definition's pods.
    expect(t.Resources.JobsProfile.Properties.Selectors).toEqual([
      { Namespace: "buildkite", Labels: [{ Key: LABELS.compute, Value: "fargate" }] },
      // Where a Fargate definition with a ServiceAccount (its one allowed privilege) goes.
      { Namespace: "buildkite-privileged", Labels: [{ Key: LABELS.compute, Value: "fargate" }] },
    ]);
    const role = t.Resources.PodExecutionRole.Properties;
    expect(trust(t, "PodExecutionRole")).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "eks-fargate-pods.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          ArnLike: { "aws:SourceArn": "arn:aws:eks:us-east-1:123456789012:fargateprofile/ci/*" },
        },
      },
    ]);
    expect(role.ManagedPolicyArns).toEqual([
      "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy",
    ]);
    expect(t.Parameters.Subnets.Description).toMatch(/^Private subnets only/);
  });
});

/** Every policy statement anywhere under `node`. */
function collectStatements(node: unknown): Statement[] {
  if (node === null || typeof node !== "object") return [];
  if (Array.isArray(node)) return node.flatMap(collectStatements);
  const record = node as CfnTemplate;
  const own = "Effect" in record && "Action" in record ? [record as Statement] : [];
  return [...own, ...Object.values(record).flatMap(collectStatements)];
}

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
/** Buildkite's partner event bus, as a user passes it. */
const BUS = "aws.partner/buildkite.com/acme/0190a3bf-aaaa-4bbb-8ccc-dddddddddddd";
const aws = await skipUnlessCi(async () => ({
  cli: await ensureAwsCli(),
  moto: await startMoto("aws-templates"),
}));
afterAll(() => aws.value?.moto.stop());

describeWith(aws, "deploy/aws templates deployed to moto", () => {
  const endpoint = aws.value?.moto.endpoint ?? "http://127.0.0.1:1";
  const credentials = { accessKeyId: "AKIDTEMPLATES", secretAccessKey: "templates" };
  // Only what the CLI needs: no credentials or configuration of this machine's.
  const env = {
    PATH: process.env.PATH ?? "",
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
  };
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON, read field by field.
  async function awsCli(...args: string[]): Promise<any> {
    const { stdout } = await promisify(execFile)(
      aws.value?.cli ?? "aws",
      ["--endpoint-url", endpoint, "--output", "json", ...args],
      { env, timeout: 60_000 },
    );
    return stdout.trim() === "" ? undefined : JSON.parse(stdout);
  }
  /** Creates a stack as a user would, waits for it, and returns its outputs. */
  async function deploy(
    stack: string,
    file: string,
    parameters: Record<string, string>,
  ): Promise<Record<string, string>> {
    const given = Object.entries(parameters).map(
      ([key, value]) => `ParameterKey=${key},ParameterValue=${value}`,
    );
    await awsCli(
      ...["cloudformation", "create-stack", "--stack-name", stack],
      ...["--template-body", `file://${path(file)}`, "--capabilities", "CAPABILITY_IAM"],
      ...(given.length > 0 ? ["--parameters", ...given] : []),
    );
    for (let i = 0; i < 100; i++) {
      const [described] = (await awsCli("cloudformation", "describe-stacks", "--stack-name", stack))
        .Stacks;
      if (described.StackStatus === "CREATE_COMPLETE") {
        return Object.fromEntries(
          (described.Outputs ?? []).map((o: { OutputKey: string; OutputValue: string }) => [
            o.OutputKey,
            o.OutputValue,
          ]),
        );
      }
      if (!described.StackStatus.endsWith("IN_PROGRESS")) {
        throw new Error(`${stack}: ${described.StackStatus} ${described.StackStatusReason ?? ""}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${stack}: not created in 10 s`);
  }
  const roleName = (arn: string) => arn.slice(arn.lastIndexOf("/") + 1);

  let provider: string;
  let secrets: Record<string, string>;
  beforeAll(async () => {
    // The cluster's IAM OIDC provider, as eksctl or the console creates it for IRSA.
    provider = (
      await awsCli(
        ...["iam", "create-open-id-connect-provider", "--url", `https://${ISSUER}`],
        ...["--client-id-list", "sts.amazonaws.com"],
        ...["--thumbprint-list", "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
      )
    ).OpenIDConnectProviderArn;
    secrets = await deploy("secrets", "secrets-bucket.yaml", {});
  });

  it("secrets-bucket.yaml: a bucket encrypted by default with a key of its own, which rotates", async () => {
    // Act
    const s3 = new S3Client({ region: REGION, endpoint, credentials, forcePathStyle: true });
    const encryption = await s3.send(
      new GetBucketEncryptionCommand({ Bucket: secrets.BucketName as string }),
    );
    s3.destroy();
    // Assess: moto applies the encryption only (not the bucket key, public access block,
    // versioning, ownership or bucket policy: those are read from the template above).
    expect(secrets.KeyArn).toMatch(new RegExp(`^arn:aws:kms:${REGION}:${ACCOUNT}:key/`));
    expect(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault,
    ).toEqual({
      SSEAlgorithm: "aws:kms",
      KMSMasterKeyID: secrets.KeyArn,
    });
    const rotation = await awsCli(
      "kms",
      "get-key-rotation-status",
      "--key-id",
      secrets.KeyArn as string,
    );
    expect(rotation.KeyRotationEnabled).toBe(true);
  });

  it("pod-role.yaml on the bucket's outputs: IRSA for the elastic-ci-stack account, and its four policies", async () => {
    // Prepare
    const account = await serviceAccount(
      "deploy/kubernetes/base/elastic-ci-stack-serviceaccount.yaml",
    );
    // Act
    const outputs = await deploy("pod-role", "pod-role.yaml", {
      ClusterName: "ci",
      OidcProviderArn: provider,
      SecretsBucket: secrets.BucketName as string,
      SecretsKeyArn: secrets.KeyArn as string,
      EcrRepositoryArns: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/app`,
    });
    // Assess: what IAM holds, CloudFormation's Fn::Split and Fn::Sub worked out by moto.
    const role = roleName(outputs.RoleArn as string);
    const { Role } = await awsCli("iam", "get-role", "--role-name", role);
    expect(Role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Federated: provider },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${ISSUER}:sub`]: `system:serviceaccount:${account.namespace}:${account.name}`,
            [`${ISSUER}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ]);
    const { PolicyNames } = await awsCli("iam", "list-role-policies", "--role-name", role);
    expect(PolicyNames.sort()).toEqual(["ecr-login", "ecr-pull", "secrets", "secrets-key"]);
    const key = await awsCli(
      ...["iam", "get-role-policy", "--role-name", role, "--policy-name", "secrets-key"],
    );
    expect(key.PolicyDocument.Statement).toEqual([
      {
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: secrets.KeyArn,
        Condition: { StringEquals: { "kms:ViaService": `s3.${REGION}.amazonaws.com` } },
      },
    ]);
  });

  it("sqs-consumer.yaml: a Job Scheduled event put on the bus arrives on the queue, and nothing else", async () => {
    // Prepare: moto keys an event bus by the part of its name after the last "/", so the
    // partner bus is created under that part; rules and events name it in full, as here.
    await awsCli("events", "create-event-bus", "--name", BUS.slice(BUS.lastIndexOf("/") + 1));
    const outputs = await deploy("sqs-consumer", "sqs-consumer.yaml", {
      EventBusName: BUS,
      ClusterName: "ci",
      OidcProviderArn: provider,
    });
    const uuid = randomUUID();
    const event = (type: string) => ({
      EventBusName: BUS,
      Source: BUS,
      DetailType: type,
      Detail: JSON.stringify(jobScheduledDetail({ uuid })),
    });
    // Act
    const put = await awsCli(
      ...["events", "put-events", "--entries"],
      JSON.stringify([event("Job Scheduled"), event("Job Finished"), event("Job Started")]),
    );
    // Assess
    expect(put.FailedEntryCount).toBe(0);
    const sqs = new SQSClient({ region: REGION, endpoint, credentials });
    try {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: outputs.QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      const bodies = (received.Messages ?? []).map((m) => JSON.parse(m.Body ?? "{}"));
      expect(bodies).toHaveLength(1);
      expect(bodies[0]).toMatchObject({
        "detail-type": "Job Scheduled",
        detail: { job: { uuid } },
      });
    } finally {
      sqs.destroy();
    }
    const attributes = (
      await awsCli(
        ...["sqs", "get-queue-attributes", "--queue-url", outputs.QueueUrl as string],
        ...["--attribute-names", "RedrivePolicy", "SqsManagedSseEnabled"],
      )
    ).Attributes;
    expect(JSON.parse(attributes.RedrivePolicy)).toEqual({
      deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${roleName(outputs.DeadLetterQueueUrl as string)}`,
      maxReceiveCount: 5,
    });
    expect(attributes.SqsManagedSseEnabled).toBe("true");
    // The consumer's role trusts its own account only.
    const account = await serviceAccount("deploy/kubernetes/sqs-consumer/serviceaccount.yaml");
    const { Role } = await awsCli(
      "iam",
      "get-role",
      "--role-name",
      roleName(outputs.RoleArn as string),
    );
    expect(Role.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals).toEqual({
      [`${ISSUER}:sub`]: `system:serviceaccount:${account.namespace}:${account.name}`,
      [`${ISSUER}:aud`]: "sts.amazonaws.com",
    });
  });

  it("sqs-consumer.yaml with a library under the bucket's key: the role may decrypt with that key, through S3 only", async () => {
    // Act: on the bus the test above created, a second stack reading its library from the
    // secrets bucket, under that bucket's key.
    const outputs = await deploy("sqs-consumer-library", "sqs-consumer.yaml", {
      EventBusName: BUS,
      ClusterName: "ci",
      OidcProviderArn: provider,
      PodLibraryBucket: secrets.BucketName as string,
      PodLibraryKeyArn: secrets.KeyArn as string,
    });
    // Assess: what IAM holds, the conditions and Fn::Sub worked out by moto.
    const role = roleName(outputs.RoleArn as string);
    const { PolicyNames } = await awsCli("iam", "list-role-policies", "--role-name", role);
    expect(PolicyNames.sort()).toEqual(["pod-library", "pod-library-key", "sqs-consumer"]);
    const key = await awsCli(
      ...["iam", "get-role-policy", "--role-name", role, "--policy-name", "pod-library-key"],
    );
    expect(key.PolicyDocument.Statement).toEqual([
      {
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: secrets.KeyArn,
        Condition: { StringEquals: { "kms:ViaService": `s3.${REGION}.amazonaws.com` } },
      },
    ]);
  });
});
