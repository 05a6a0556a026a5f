import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Submitter } from "@ondemand-eks/submitter";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  adminApis,
  adminSubmitter,
  bundledLibrary,
  describeWithCluster,
  manifestFor,
} from "./helpers/cluster.js";

/** Polls until the Job controller has made the Job's Pod (there is no kubelet to run it). */
async function podsOfJob(name: string, namespace: string, attempts = 300) {
  const { core } = adminApis();
  for (let i = 0; i < attempts; i++) {
    const pods = await core.listNamespacedPod({
      namespace,
      labelSelector: `batch.kubernetes.io/job-name=${name}`,
    });
    if (pods.items.length > 0) return pods.items;
    await sleep(100);
  }
  return [];
}

const oneShot = (await bundledLibrary())
  .definitions()
  .filter((definition) => definition.mode === "one-shot")
  .map((definition) => definition.name);

describeWithCluster("every bundled one-shot pod definition", () => {
  let submitter: Submitter;
  beforeAll(async () => {
    submitter = await adminSubmitter();
  });
  afterAll(() => submitter.close());

  it("includes at least the definitions the README lists", () => {
    expect(oneShot).toEqual(
      expect.arrayContaining(["default", "elastic-ci-stack", "node-postgres"]),
    );
  });

  it.each(oneShot)(
    "%s: passes a dry run, is created, and the Job controller makes its Pod",
    async (name) => {
      const uuid = randomUUID();
      const manifest = await manifestFor(uuid, name);
      expect(await submitter.submit(manifest, { dryRun: true })).toMatchObject({
        outcome: "created",
        dryRun: true,
      });
      expect(await submitter.submit(manifest)).toMatchObject({ outcome: "created", dryRun: false });

      // Privileged definitions' Jobs go to the privileged namespace, the others to buildkite.
      expect(manifest.metadata.namespace).toBe(
        name === "elastic-ci-stack" ? "buildkite-privileged" : "buildkite",
      );
      const pods = await podsOfJob(manifest.metadata.name, manifest.metadata.namespace);
      expect(pods).toHaveLength(1);
      const pod = pods[0]!;
      expect(pod.status?.phase).toBe("Pending");
      const expected = manifest.spec.template.spec;
      expect(pod.spec?.containers.map((container) => container.name)).toEqual(
        expected.containers.map((container) => container.name),
      );
      expect(pod.spec?.serviceAccountName).toBe(expected.serviceAccountName ?? "default");
    },
  );
});
