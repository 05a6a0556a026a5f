import { randomUUID } from "node:crypto";
import { BatchV1Api, KubeConfig } from "@kubernetes/client-node";
import { LABELS } from "@ondemand-eks/core";
import { kubeconfigAuth, type SubmitOutcome, Submitter } from "@ondemand-eks/submitter";
import {
  startApiserver,
  startTestControlPlane,
  stopApiserver,
  type TestRun,
} from "@ondemand-eks/testenv";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithCluster, manifestFor } from "./helpers/cluster.js";

/**
 * These tests stop the API server, so they get a control plane of their own (no
 * controller manager: no Pods are needed) instead of the package's shared one.
 */
describeWithCluster("an API server outage", () => {
  let run: TestRun;
  let submitter: Submitter;
  let batch: BatchV1Api;

  beforeAll(async () => {
    run = await startTestControlPlane("submitter-outage", { controllerManager: false });
    if (!run.state || !run.info.available) throw new Error("no control plane");
    submitter = new Submitter({
      auth: await kubeconfigAuth({ path: run.info.kubeconfig }),
      attemptTimeoutMs: 2_000,
    });
    const config = new KubeConfig();
    config.loadFromFile(run.info.kubeconfig);
    batch = config.makeApiClient(BatchV1Api);
  });
  afterAll(async () => {
    submitter?.close();
    await run?.teardown();
  });

  async function jobUuids(): Promise<string[]> {
    const list = await batch.listNamespacedJob({ namespace: "buildkite" });
    return list.items.map((job) => job.metadata?.labels?.[LABELS.jobUuid] ?? "");
  }

  it("loses and duplicates nothing when the server goes down mid-burst and comes back", async () => {
    const state = run.state!;
    const before = await jobUuids();
    const uuids = Array.from({ length: 200 }, () => randomUUID());
    const manifests = await Promise.all(uuids.map((uuid) => manifestFor(uuid)));

    let settled = 0;
    let outage: Promise<void> | undefined;
    const submissions = manifests.map((manifest) =>
      submitter.submit(manifest, { timeoutMs: 120_000 }).then((outcome) => {
        settled += 1;
        // A quarter of the way in: kill the API server (no graceful drain, so some
        // requests die in flight), then start it again.
        if (settled === 50) {
          outage = (async () => {
            await stopApiserver(state, 0);
            await startApiserver(state);
          })();
        }
        return outcome;
      }),
    );
    const outcomes: SubmitOutcome[] = await Promise.all(submissions);
    await outage;

    const kinds = new Set(outcomes.map((outcome) => outcome.outcome));
    expect([...kinds].filter((kind) => kind !== "created" && kind !== "exists")).toEqual([]);
    // Some submissions really did wait for the outage.
    expect(outcomes.some((outcome) => outcome.attempts > 1)).toBe(true);

    const after = (await jobUuids()).filter((uuid) => !before.includes(uuid));
    expect(after.sort()).toEqual([...uuids].sort());
  });

  it("reports unavailable past the deadline and leaves nothing half-done", async () => {
    const state = run.state!;
    await stopApiserver(state, 0);
    const uuids = Array.from({ length: 20 }, () => randomUUID());
    try {
      const outcomes = await Promise.all(
        uuids.map(async (uuid) => submitter.submit(await manifestFor(uuid), { timeoutMs: 1_500 })),
      );
      for (const outcome of outcomes) {
        expect(outcome.outcome).toBe("unavailable");
        if (outcome.outcome === "unavailable") {
          expect(outcome.message).toMatch(/no success within 1500 ms: .*ECONNREFUSED/);
          expect(outcome.attempts).toBeGreaterThan(1);
        }
      }
    } finally {
      await startApiserver(state);
    }
    const stored = await jobUuids();
    expect(uuids.filter((uuid) => stored.includes(uuid))).toEqual([]);

    // Submitting again once the server is back simply works.
    const again = await submitter.submit(await manifestFor(uuids[0]!));
    expect(again.outcome).toBe("created");
  });
});
