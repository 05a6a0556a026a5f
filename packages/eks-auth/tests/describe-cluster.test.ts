import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { describeCluster, EksAuthError, eksAuth } from "@ondemand-eks/eks-auth";
import { type Moto, type Prerequisite, skipUnlessCi, startMoto } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";

const region = "eu-west-1";
const admin = { accessKeyId: "AKIDMOTOADMIN", secretAccessKey: "moto-admin-secret" };

function eks(endpoint: string, credentials = admin) {
  return new EKSClient({ region, endpoint, credentials });
}

async function createCluster(endpoint: string, name: string) {
  await eks(endpoint).send(
    new CreateClusterCommand({
      name,
      roleArn: "arn:aws:iam::123456789012:role/eks",
      resourcesVpcConfig: { subnetIds: [] },
    }),
  );
}

// Started here so that without Python the tests are collected as skipped, with the reason.
const plain = await skipUnlessCi(() => startMoto("eks-auth"));
// This one answers the first three calls unauthenticated (the setup), then checks IAM.
const enforced = await skipUnlessCi(() =>
  startMoto("eks-auth-iam", { env: { INITIAL_NO_AUTH_ACTION_COUNT: "3" } }),
);

// Whatever happens below (a failed start, skipped blocks), both stop.
afterAll(async () => {
  await plain.value?.stop();
  await enforced.value?.stop();
});

/** describeWith, handing the body its moto (read only in hooks and tests: never when skipped). */
function describeWithMoto(name: string, started: Prerequisite<Moto>, body: (moto: Moto) => void) {
  describeWith(started, name, () => body(started.value as Moto));
}

describeWithMoto("DescribeCluster against moto server", plain, (moto) => {
  beforeAll(() => createCluster(moto.endpoint, "ci"));
  afterAll(() => moto.stop());

  it("finds the endpoint and CA of an ACTIVE cluster", async () => {
    const cluster = await describeCluster(eks(moto.endpoint), "ci", region);
    expect(cluster.endpoint).toMatch(/^https:\/\//);
    expect(cluster.caPem.length).toBeGreaterThan(0);
  });

  it("says the cluster does not exist, naming it and the region", async () => {
    const error = await describeCluster(eks(moto.endpoint), "nope", region).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EksAuthError);
    expect(error).toMatchObject({
      code: "EKS_CLUSTER_NOT_FOUND",
      message: 'EKS cluster "nope" does not exist in eu-west-1 (check the name and the region)',
    });
  });

  it("describes once, through eksAuth, and makes no AWS call when endpoint and CA are given", async () => {
    const client = eks(moto.endpoint);
    let calls = 0;
    client.middlewareStack.add(
      (next) => (args) => {
        calls += 1;
        return next(args);
      },
      { step: "initialize" },
    );
    const auth = await eksAuth({
      clusterName: "ci",
      region,
      credentials: async () => admin,
      eksClient: client,
    });
    expect(auth.server).toMatch(/^https:\/\//);
    await auth.headers();
    await auth.headers();
    expect(calls).toBe(1);
    const given = await eksAuth({
      clusterName: "ci",
      region,
      credentials: async () => admin,
      endpoint: "https://10.0.0.1",
      caPem: "PEM",
      eksClient: eks("http://127.0.0.1:1"),
    });
    expect(given.server).toBe("https://10.0.0.1");
  });
});

describeWithMoto("DescribeCluster when IAM is enforced", enforced, (moto) => {
  let denied: { accessKeyId: string; secretAccessKey: string };
  beforeAll(async () => {
    await createCluster(moto.endpoint, "ci");
    const iam = new IAMClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: admin });
    await iam.send(new CreateUserCommand({ UserName: "no-permissions" }));
    const { AccessKey } = await iam.send(
      new CreateAccessKeyCommand({ UserName: "no-permissions" }),
    );
    denied = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
  });
  afterAll(() => moto.stop());

  it("says the caller may not describe the cluster, and what to grant", async () => {
    const error = await describeCluster(eks(moto.endpoint, denied), "ci", region).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "EKS_ACCESS_DENIED" });
    expect((error as Error).message).toContain(
      'not allowed to describe EKS cluster "ci" in eu-west-1: grant eks:DescribeCluster',
    );
    expect((error as Error).message).not.toContain(denied.secretAccessKey);
  });
});
