import { randomUUID } from "node:crypto";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import {
  type BuildkiteEmulator,
  type EmulatedLambda,
  skipUnlessCi,
  startBuildkiteEmulator,
  startLambda,
  startMoto,
  startTestControlPlane,
  type TestRun,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BUNDLE_DIR, jobsFor } from "./lambda-helpers.js";

// The scheduled controller function as deployed (dist/lambda/controller.mjs and its
// chunks) under the Lambda Runtime Interface Emulator: on this file's control plane, with
// the Buildkite emulator and, for the token, moto's Secrets Manager.

const CLUSTER_TOKEN = `bkct_${randomUUID().replaceAll("-", "")}`;
const CREDENTIALS = { accessKeyId: "AKIDCONTROLLER", secretAccessKey: "controller-test" };

/** EventBridge's "Scheduled Event", as a schedule rule sends it. */
const scheduledEvent = () => ({
  version: "0",
  id: randomUUID(),
  "detail-type": "Scheduled Event",
  source: "aws.events",
  account: "123456789012",
  time: new Date().toISOString(),
  region: "us-east-1",
  resources: ["arn:aws:events:us-east-1:123456789012:rule/ondemand-eks-controller"],
  detail: {},
});

const plane: TestRun = await startTestControlPlane("lambda-controller", {
  controllerManager: false,
});
const aws = await skipUnlessCi(() => startMoto("lambda-controller"));
const buildkite: BuildkiteEmulator = await startBuildkiteEmulator({
  agentToken: `agent-${randomUUID()}`,
  clusterToken: CLUSTER_TOKEN,
});
afterAll(async () => {
  await buildkite.close();
  await aws.value?.stop();
  await plane.teardown();
});

/** The controller function, on this file's cluster and Buildkite; `env` adds to or overrides. */
function controllerLambda(name: string, env: Record<string, string>) {
  return startLambda(name, {
    handlerDir: BUNDLE_DIR,
    handler: "controller.handler",
    env: {
      ONDEMAND_EKS_KUBECONFIG: plane.state?.kubeconfig ?? "",
      ONDEMAND_EKS_BUILDKITE_ENDPOINT: buildkite.url,
      // The Lease beside the Jobs: the test cluster has no ondemand-eks namespace.
      ONDEMAND_EKS_LEASE_NAMESPACE: "buildkite",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.value?.endpoint ?? "",
      AWS_ENDPOINT_URL_SSM: aws.value?.endpoint ?? "",
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      ...env,
    },
  });
}

describeWith([plane.info, aws], "the scheduled controller under the Lambda emulator", () => {
  let controller: EmulatedLambda;
  beforeAll(async () => {
    const secrets = new SecretsManagerClient({
      region: "us-east-1",
      endpoint: aws.value?.endpoint ?? "",
      credentials: CREDENTIALS,
    });
    const secret = await secrets.send(
      new CreateSecretCommand({ Name: `buildkite/${randomUUID()}`, SecretString: CLUSTER_TOKEN }),
    );
    controller = await controllerLambda("controller", {
      ONDEMAND_EKS_CLUSTER_TOKEN_ARN: secret.ARN as string,
    });
  });
  afterAll(() => controller?.stop());

  it("one invocation makes the Job of a job whose event never came, reserved by its stack", async () => {
    // Prepare: a job Buildkite scheduled, with no event delivered anywhere.
    const id = buildkite.createJob({ command: "echo from the schedule", queue: "default" });
    expect(await jobsFor(plane.state?.kubeconfig, id)).toHaveLength(0);
    // Act
    const { status, body } = await controller.invoke(scheduledEvent());
    // Assess
    expect(status).toBe(200);
    expect(body).toMatchObject({ complete: true, done: { schedule: 1 }, problems: [] });
    expect(await jobsFor(plane.state?.kubeconfig, id)).toHaveLength(1);
    const job = buildkite.job(id);
    expect(job.state).toBe("reserved");
    expect(job.timeline.map((entry) => entry.event)).toContain("reserved by ondemand-eks-default");
  });

  it("the next invocation finds nothing more to make", async () => {
    const id = buildkite.createJob({ command: "echo once", queue: "default" });
    const first = await controller.invoke(scheduledEvent());
    expect(first.body).toMatchObject({ complete: true });
    const again = await controller.invoke(scheduledEvent());
    expect(again.body).toMatchObject({ complete: true, done: { schedule: 0 } });
    expect(await jobsFor(plane.state?.kubeconfig, id)).toHaveLength(1);
  });

  it("takes its token from an SSM parameter as well", async () => {
    // Prepare
    const name = `/buildkite/${randomUUID()}`;
    const ssm = new SSMClient({
      region: "us-east-1",
      endpoint: aws.value?.endpoint ?? "",
      credentials: CREDENTIALS,
    });
    await ssm.send(
      new PutParameterCommand({ Name: name, Value: CLUSTER_TOKEN, Type: "SecureString" }),
    );
    const fromSsm = await controllerLambda("controller-ssm", {
      ONDEMAND_EKS_CLUSTER_TOKEN_ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${name}`,
      // Its own Lease: the function above holds the shared one.
      ONDEMAND_EKS_LEASE_NAME: "ondemand-eks-controller-ssm",
    });
    try {
      const id = buildkite.createJob({ command: "echo ssm", queue: "default" });
      // Act
      const { body } = await fromSsm.invoke(scheduledEvent());
      // Assess
      expect(body).toMatchObject({ complete: true });
      expect(await jobsFor(plane.state?.kubeconfig, id)).toHaveLength(1);
    } finally {
      await fromSsm.stop();
    }
  });

  it("a token Buildkite refuses fails the invocation, saying so", async () => {
    const refused = await controllerLambda("controller-refused", {
      BUILDKITE_CLUSTER_TOKEN: `bkct_${randomUUID().replaceAll("-", "")}`,
      // Its own Lease: the function above holds the shared one.
      ONDEMAND_EKS_LEASE_NAME: "ondemand-eks-controller-refused",
    });
    try {
      const { body } = await refused.invoke(scheduledEvent());
      expect(body).toMatchObject({
        errorType: "ControllerPassError",
        errorMessage: expect.stringContaining("Buildkite refused the cluster token"),
      });
    } finally {
      await refused.stop();
    }
  });

  it("an ARN that cannot be read fails init, naming the ARN", async () => {
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:no-such-token-AbC123";
    const broken = await controllerLambda("controller-no-token", {
      ONDEMAND_EKS_CLUSTER_TOKEN_ARN: arn,
    });
    try {
      const { status, raw } = await broken.invoke(scheduledEvent());
      expect(status).not.toBe(200);
      const said = `${raw}\n${broken.logs()}`;
      expect(said).toContain(arn);
      expect(said).toContain("ClusterTokenUnavailableError");
      expect(said).not.toContain(CLUSTER_TOKEN);
    } finally {
      await broken.stop();
    }
  });
});
