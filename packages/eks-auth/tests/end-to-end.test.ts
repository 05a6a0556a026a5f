import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JobManifest, renderEvent, resolveSettings } from "@ondemand-eks/core";
import { eksAuth } from "@ondemand-eks/eks-auth";
import { bundledLibraryDir, loadPodLibrary } from "@ondemand-eks/pod-library";
import { Submitter } from "@ondemand-eks/submitter";
import { startTestControlPlane, type TestRun } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import type { AwsCredentialIdentity } from "@smithy/types";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTokenWebhook, type TokenWebhook } from "./helpers/token-webhook.js";

const CLUSTER = "ci-e2e";
const SECRETS = { AKIDE2EFIRST: "first-secret/+=", AKIDE2ESECOND: "second-secret" };

const sample = JSON.parse(
  await readFile(new URL("../../../examples/job-scheduled.json", import.meta.url), "utf8"),
) as { detail: { job: { uuid: string } } };
const pods = await loadPodLibrary(bundledLibraryDir());

function manifest(namespace = "buildkite"): JobManifest {
  const event = structuredClone(sample);
  event.detail.job.uuid = randomUUID();
  const rendered = renderEvent(event, {
    settings: resolveSettings({ namespace }),
    lookup: (name) => pods.get(name),
  });
  if (rendered.kind !== "job") throw new Error(rendered.reason);
  return rendered.manifest;
}

// Started here, not in a hook, so that without Go the tests are collected as skipped
// with the reason (under CI=true a missing Go fails instead).
let now = Date.now();
const dir = await mkdtemp(join(tmpdir(), "ondemand-eks-e2e-"));
const webhook: TokenWebhook = await startTokenWebhook({
  dir,
  clusterName: CLUSTER,
  secrets: SECRETS,
  now: () => now,
});
const run: TestRun = await startTestControlPlane("eks-auth-e2e", {
  controllerManager: false,
  apiserverArgs: [
    `--authentication-token-webhook-config-file=${webhook.configFile}`,
    "--authentication-token-webhook-version=v1",
    // Ask the webhook every time: the tests move the clock and rotate keys.
    "--authentication-token-webhook-cache-ttl=0s",
  ],
});
afterAll(async () => {
  await run.teardown();
  await webhook.close();
  await rm(dir, { recursive: true, force: true });
});
const title = "EKS IAM tokens against the local kube-apiserver";

describeWith(run.info, title, () => {
  let credentials: AwsCredentialIdentity = {
    accessKeyId: "AKIDE2EFIRST",
    secretAccessKey: SECRETS.AKIDE2EFIRST,
  };
  let submitter: Submitter;
  let caPem: string;

  beforeAll(async () => {
    if (!run.state) throw new Error("no control plane");
    caPem = await readFile(run.state.pki.caCert, "utf8");
    submitter = new Submitter({
      auth: await eksAuth({
        clusterName: CLUSTER,
        region: "us-east-1",
        endpoint: run.state.server,
        caPem,
        credentials: async () => credentials,
        now: () => now,
      }),
    });
  });
  afterAll(() => submitter?.close());

  it("creates a Job as the IAM identity, with only the scheduler's rights", async () => {
    expect(await submitter.submit(manifest())).toMatchObject({ outcome: "created" });
    expect(webhook.authenticated).toContain("AKIDE2EFIRST");
    expect(await submitter.submit(manifest("default"))).toMatchObject({
      outcome: "rejected",
      status: 403,
    });
  });

  it("keeps working across token expiry, signing new tokens as the clock moves", async () => {
    const before = webhook.authenticated.length;
    for (let step = 0; step < 4; step++) {
      now += 10 * 60_000; // 40 minutes in all: each token lives 15
      expect(await submitter.submit(manifest())).toMatchObject({
        outcome: "created",
        attempts: 1,
      });
    }
    expect(webhook.authenticated.length).toBeGreaterThan(before);
    expect(webhook.refused).toEqual([]);
  });

  it("picks up rotated credentials at the next refresh", async () => {
    credentials = { accessKeyId: "AKIDE2ESECOND", secretAccessKey: SECRETS.AKIDE2ESECOND };
    now += 14 * 60_000;
    expect(await submitter.submit(manifest())).toMatchObject({ outcome: "created" });
    expect(webhook.authenticated.at(-1)).toBe("AKIDE2ESECOND");
  });

  it("is refused with a wrong secret, after one forced refresh", async () => {
    const wrong = new Submitter({
      auth: await eksAuth({
        clusterName: CLUSTER,
        region: "us-east-1",
        endpoint: run.state!.server,
        caPem,
        credentials: async () => ({
          accessKeyId: "AKIDE2EFIRST",
          secretAccessKey: "not-the-secret",
        }),
        now: () => now,
      }),
    });
    const refusedBefore = webhook.refused.length;
    try {
      const result = await wrong.submit(manifest());
      expect(result).toMatchObject({ outcome: "rejected", status: 401, attempts: 2 });
      if (result.outcome === "rejected") {
        expect(result.message).toContain('IAM credentials for EKS cluster "ci-e2e"');
        expect(result.message).not.toContain("not-the-secret");
      }
      expect(webhook.refused.slice(refusedBefore)).toEqual([
        "signature does not match",
        "signature does not match",
      ]);
    } finally {
      wrong.close();
    }
  });
});
