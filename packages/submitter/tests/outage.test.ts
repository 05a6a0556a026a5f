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
    if (!run.state) throw new Error("no control plane");
    submitter = new Submitter({
      auth: await kubeconfigAuth({ path: run.state.kubeconfig }),
      attemptTimeoutMs: 2_000,
    });
    const config = new KubeConfig();
    config.loadFromFile(run.state.kubeconfig);
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

    // The 60th request kills the API server (no graceful drain: requests in flight die
    // with it) and every later request waits until it is dead, so at least 140 first
    // attempts certainly meet the outage, whatever the machine's speed. Then it restarts.
    const base = await kubeconfigAuth({ path: state.kubeconfig });
    let requests = 0;
    let killed: Promise<void> | undefined;
    let restarted: Promise<void> | undefined;
    const gated = new Submitter({
      auth: {
        ...base,
        headers: async () => {
          requests += 1;
          if (requests === 60) {
            killed = stopApiserver(state, 0);
            restarted = killed.then(() => startApiserver(state));
          }
          if (killed) await killed;
          return base.headers();
        },
      },
      attemptTimeoutMs: 2_000,
    });
    let outcomes: SubmitOutcome[];
    try {
      outcomes = await Promise.all(
        manifests.map((manifest) => gated.submit(manifest, { timeoutMs: 120_000 })),
      );
      await restarted;
    } finally {
      gated.close();
    }

    const kinds = new Set(outcomes.map((outcome) => outcome.outcome));
    expect([...kinds].filter((kind) => kind !== "created" && kind !== "exists")).toEqual([]);
    expect(killed).toBeDefined();
    expect(outcomes.filter((outcome) => outcome.attempts > 1).length).toBeGreaterThanOrEqual(140);

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
