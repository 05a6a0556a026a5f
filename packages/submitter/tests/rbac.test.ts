import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { buildDeployment, resolveSettings } from "@ondemand-eks/core";
import { inClusterAuth, Submitter } from "@ondemand-eks/submitter";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  adminApis,
  bundledLibrary,
  describeWithCluster,
  jobsFor,
  manifestFor,
} from "./helpers/cluster.js";

const NAMESPACE = "buildkite";
/** The scheduler's account lives in its own namespace, apart from the job pods. */
const ACCOUNT_NAMESPACE = "ondemand-eks";
const SCHEDULER = "ondemand-eks-scheduler";

/** A token for the scheduler's ServiceAccount from the TokenRequest API. */
async function schedulerToken(): Promise<string> {
  const { core } = adminApis();
  const request = await core.createNamespacedServiceAccountToken({
    name: SCHEDULER,
    namespace: ACCOUNT_NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error("TokenRequest returned no token");
  return token;
}

/** The HTTP status a client-node call fails with, or 0 when it succeeds. */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 0;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

describeWithCluster("the scheduler's ServiceAccount and Role from deploy/kubernetes", () => {
  let dir: string;
  let tokenPath: string;
  let caPath: string;
  let server: string;
  let submitter: Submitter;
  let asScheduler: CoreV1Api;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ondemand-eks-rbac-"));
    tokenPath = join(dir, "token");
    caPath = join(dir, "ca.crt");
    const { config } = adminApis();
    const cluster = config.getCurrentCluster();
    if (!cluster?.caData) throw new Error("admin kubeconfig has no CA data");
    server = cluster.server;
    await writeFile(caPath, Buffer.from(cluster.caData, "base64"));
    const token = await schedulerToken();
    await writeFile(tokenPath, token);
    // Exactly how it runs in a pod: the mounted token and CA.
    submitter = new Submitter({ auth: await inClusterAuth({ tokenPath, caPath, server }) });
    const scheduler = new KubeConfig();
    scheduler.loadFromClusterAndUser(
      { name: "testenv", server, caData: cluster.caData, skipTLSVerify: false },
      { name: SCHEDULER, token },
    );
    asScheduler = scheduler.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    submitter.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("can create Jobs in its namespace", async () => {
    const uuid = randomUUID();
    expect(await submitter.submit(await manifestFor(uuid))).toMatchObject({ outcome: "created" });
    expect(await jobsFor(uuid)).toHaveLength(1);
  });

  it("can tell its own existing Job (get) after a duplicate", async () => {
    const manifest = await manifestFor(randomUUID());
    await submitter.submit(manifest);
    expect(await submitter.submit(manifest)).toMatchObject({ outcome: "exists" });
  });

  it("is forbidden from creating Jobs in another namespace", async () => {
    const manifest = await manifestFor(randomUUID());
    manifest.metadata.namespace = "default";
    const result = await submitter.submit(manifest);
    expect(result).toMatchObject({
      outcome: "rejected",
      status: 403,
      reason: "Forbidden",
      attempts: 1,
    });
    if (result.outcome === "rejected") expect(result.message).toContain(SCHEDULER);
  });

  it("is forbidden from creating Deployments (no feature needs them yet)", async () => {
    const pool = (await bundledLibrary()).definitions().find((d) => d.mode === "long-polling");
    if (!pool) throw new Error("no long-polling definition");
    const result = await submitter.submit(
      buildDeployment({ definition: pool, settings: resolveSettings({}) }),
    );
    expect(result).toMatchObject({ outcome: "rejected", status: 403 });
  });

  it("is forbidden from reading Secrets, even the agent token's namespace", async () => {
    expect(await statusOf(() => asScheduler.listNamespacedSecret({ namespace: NAMESPACE }))).toBe(
      403,
    );
    expect(
      await statusOf(() =>
        asScheduler.readNamespacedSecret({ name: "buildkite-agent-token", namespace: NAMESPACE }),
      ),
    ).toBe(403);
  });

  it("is forbidden from creating Pods directly", async () => {
    const manifest = await manifestFor(randomUUID());
    const status = await statusOf(() =>
      asScheduler.createNamespacedPod({
        namespace: NAMESPACE,
        body: {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: `direct-${randomUUID()}` },
          spec: manifest.spec.template.spec as never,
        },
      }),
    );
    expect(status).toBe(403);
  });

  it("grants the same to the group ondemand-eks:scheduler (an IAM role mapped to it)", async () => {
    const { kubeconfigAuth } = await import("@ondemand-eks/submitter");
    const { kubeconfigPath } = await import("./helpers/cluster.js");
    const admin = await kubeconfigAuth({ path: kubeconfigPath() });
    // The admin's client certificate may impersonate: act as a user only in that group.
    const asLambda = new Submitter({
      auth: {
        ...admin,
        headers: async () => ({
          "Impersonate-User": "arn:aws:sts::123456789012:assumed-role/scheduler/lambda",
          "Impersonate-Group": "ondemand-eks:scheduler",
        }),
      },
    });
    try {
      expect((await asLambda.submit(await manifestFor(randomUUID()))).outcome).toBe("created");
      const elsewhere = await manifestFor(randomUUID());
      elsewhere.metadata.namespace = "default";
      expect(await asLambda.submit(elsewhere)).toMatchObject({ outcome: "rejected", status: 403 });
    } finally {
      asLambda.close();
    }
  });

  it("picks up a rotated token file without being rebuilt", async () => {
    // The token read is used for a minute; one the API server refuses is read again at once.
    await writeFile(tokenPath, "not-a-valid-token");
    const server = submitter.server;
    const rotating = new Submitter({ auth: await inClusterAuth({ tokenPath, caPath, server }) });
    const refused = await rotating.submit(await manifestFor(randomUUID()));
    expect(refused).toMatchObject({ outcome: "rejected", status: 401, reason: "Unauthorized" });
    if (refused.outcome === "rejected") {
      expect(refused.message).toContain(tokenPath);
      expect(refused.message).not.toContain("not-a-valid-token");
    }
    await writeFile(tokenPath, await schedulerToken());
    expect(await rotating.submit(await manifestFor(randomUUID()))).toMatchObject({
      outcome: "created",
    });
    rotating.close();
  });
});
