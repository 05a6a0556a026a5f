import { randomUUID } from "node:crypto";
import { LABELS } from "@ondemand-eks/core";
import { kubeconfigAuth, Submitter } from "@ondemand-eks/submitter";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  adminApis,
  adminSubmitter,
  bundledLibrary,
  describeWithCluster,
  jobsFor,
  kubeconfigPath,
  manifestFor,
} from "./helpers/cluster.js";

describeWithCluster("submit against a real API server", () => {
  let submitter: Submitter;
  beforeAll(async () => {
    submitter = await adminSubmitter();
  });
  afterAll(() => submitter.close());

  it("creates the Job once, then reports exists for the same job", async () => {
    const uuid = randomUUID();
    const manifest = await manifestFor(uuid);
    const first = await submitter.submit(manifest);
    expect(first).toMatchObject({ outcome: "created", name: `buildkite-${uuid}`, attempts: 1 });
    const second = await submitter.submit(manifest);
    expect(second).toMatchObject({ outcome: "exists", attempts: 1 });
    if (first.outcome === "created" && second.outcome === "exists") {
      expect(second.uid).toBe(first.uid);
    }
    expect(await jobsFor(uuid)).toHaveLength(1);
  });

  it("makes exactly one Job from the same event submitted 10 times in a row", async () => {
    const uuid = randomUUID();
    const manifest = await manifestFor(uuid);
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) outcomes.push((await submitter.submit(manifest)).outcome);
    expect(outcomes).toEqual(["created", ...Array(9).fill("exists")]);
    expect(await jobsFor(uuid)).toHaveLength(1);
  });

  it("makes exactly one Job from the same event submitted 10 times at once", async () => {
    const uuid = randomUUID();
    const manifest = await manifestFor(uuid);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => submitter.submit(structuredClone(manifest))),
    );
    const outcomes = results.map((result) => result.outcome).sort();
    expect(outcomes).toEqual(["created", ...Array(9).fill("exists")]);
    const uids = new Set(results.map((result) => ("uid" in result ? result.uid : undefined)));
    expect(uids.size).toBe(1);
    expect(await jobsFor(uuid)).toHaveLength(1);
  });

  it("validates without storing anything in a dry run", async () => {
    const uuid = randomUUID();
    const result = await submitter.submit(await manifestFor(uuid), { dryRun: true });
    expect(result).toMatchObject({ outcome: "created", dryRun: true });
    expect(await jobsFor(uuid)).toHaveLength(0);
  });

  it("sends the manifest as built, so the server names an unknown field, and does not retry", async () => {
    const manifest = await manifestFor(randomUUID());
    const container = manifest.spec.template.spec.containers[0] as Record<string, unknown>;
    container.imagePullPolicyy = "Always";
    const result = await submitter.submit(manifest);
    expect(result).toMatchObject({ outcome: "rejected", status: 400, attempts: 1 });
    if (result.outcome === "rejected") {
      expect(result.message).toContain(
        'unknown field "spec.template.spec.containers[0].imagePullPolicyy"',
      );
    }
  });

  it("reports an invalid value as rejected with the server's message", async () => {
    const uuid = randomUUID();
    const manifest = await manifestFor(uuid);
    manifest.spec.template.spec.containers[0]!.name = "Not_A_DNS_Label";
    const result = await submitter.submit(manifest);
    expect(result).toMatchObject({
      outcome: "rejected",
      status: 422,
      reason: "Invalid",
      attempts: 1,
    });
    if (result.outcome === "rejected") expect(result.message).toContain("Not_A_DNS_Label");
    expect(await jobsFor(uuid)).toHaveLength(0);
  });

  it("does not take a Job of another Buildkite job under the same name for its own", async () => {
    const uuid = randomUUID();
    const manifest = await manifestFor(uuid);
    expect((await submitter.submit(manifest)).outcome).toBe("created");
    const impostor = structuredClone(manifest);
    impostor.metadata.labels = { ...impostor.metadata.labels, [LABELS.jobUuid]: randomUUID() };
    const result = await submitter.submit(impostor);
    expect(result).toMatchObject({ outcome: "rejected", status: 409, reason: "AlreadyExists" });
  });

  it.each([
    ["no managed-by label", undefined, "with no app.kubernetes.io/managed-by label"],
    ["another manager's label", "agent-stack-k8s", 'managed by "agent-stack-k8s"'],
  ])(
    "does not take a Job with %s for its own, even with this job's UUID",
    async (_, manager, said) => {
      // Prepare: a Job under our name with this job's UUID (as Buildkite's agent-stack-k8s
      // names and labels its Jobs, or a squatter copying both), made by someone else.
      const uuid = randomUUID();
      const manifest = await manifestFor(uuid);
      const squatted = structuredClone(manifest);
      const { [LABELS.managedBy]: _ours, ...labels } = squatted.metadata.labels ?? {};
      squatted.metadata.labels =
        manager === undefined ? labels : { ...labels, [LABELS.managedBy]: manager };
      squatted.spec.template.spec.containers[0]!.image = "attacker.example/agent:latest";
      await adminApis().batch.createNamespacedJob({ namespace: "buildkite", body: squatted });

      // Act
      const result = await submitter.submit(manifest);

      // Assess
      expect(result).toMatchObject({
        outcome: "rejected",
        status: 409,
        reason: "AlreadyExists",
        attempts: 1,
      });
      if (result.outcome === "rejected") {
        expect(result.message).toContain(said);
        expect(result.message).toContain("not by ondemand-eks");
      }
    },
  );

  it("reports exists for a Job made elsewhere with our managed-by label and this job's UUID", async () => {
    const uuid = randomUUID();
    const manifest = await manifestFor(uuid);
    expect(manifest.metadata.labels?.[LABELS.managedBy]).toBe("ondemand-eks");
    const made = await adminApis().batch.createNamespacedJob({
      namespace: "buildkite",
      body: structuredClone(manifest),
    });
    const result = await submitter.submit(manifest);
    expect(result).toMatchObject({ outcome: "exists", uid: made.metadata?.uid, attempts: 1 });
  });

  it("rejects a namespace that does not exist, without retrying", async () => {
    const manifest = await manifestFor(randomUUID());
    manifest.metadata.namespace = "no-such-namespace";
    const result = await submitter.submit(manifest);
    expect(result).toMatchObject({
      outcome: "rejected",
      status: 404,
      reason: "NotFound",
      attempts: 1,
    });
  });

  it("ping() says whether the API server answers, within its deadline", async () => {
    expect(await submitter.ping()).toBe(true);
    const auth = await kubeconfigAuth({ path: kubeconfigPath() });
    const nowhere = new Submitter({ auth: { ...auth, server: "https://127.0.0.1:1" } });
    expect(await nowhere.ping(500)).toBe(false);
    nowhere.close();
  });

  it("is the submit of the core's schedule(): created, then exists, for one event", async () => {
    const { resolveSettings, schedule } = await import("@ondemand-eks/core");
    const { readFileSync } = await import("node:fs");
    const event = JSON.parse(
      readFileSync(new URL("../../../examples/job-scheduled.json", import.meta.url), "utf8"),
    ) as { detail: { job: { uuid: string } } };
    event.detail.job.uuid = randomUUID();
    const pods = await bundledLibrary();
    const dependencies = {
      settings: resolveSettings({}),
      lookup: (name: string) => pods.get(name),
      submit: (manifest: Parameters<Submitter["submit"]>[0]) => submitter.submit(manifest),
    };
    expect(await schedule(event, dependencies)).toMatchObject({
      outcome: "created",
      job: event.detail.job.uuid,
      podDefinition: "node-postgres",
    });
    expect(await schedule(event, dependencies)).toMatchObject({ outcome: "exists" });
    expect(await jobsFor(event.detail.job.uuid)).toHaveLength(1);
  });

  it("creates a long-polling definition's Deployment, idempotently", async () => {
    const { buildDeployment, resolveSettings } = await import("@ondemand-eks/core");
    const pods = await bundledLibrary();
    const pool = pods.definitions().find((definition) => definition.mode === "long-polling");
    if (!pool) throw new Error("the bundled library has no long-polling definition");
    const manifest = buildDeployment({ definition: pool, settings: resolveSettings({}) });
    const { apps } = adminApis();
    // A re-run (watch mode) starts from nothing too.
    await apps
      .deleteNamespacedDeployment({ name: manifest.metadata.name, namespace: "buildkite" })
      .catch(() => {});
    expect((await submitter.submit(manifest)).outcome).toBe("created");
    expect((await submitter.submit(manifest)).outcome).toBe("exists");
    const found = await apps.readNamespacedDeployment({
      name: manifest.metadata.name,
      namespace: "buildkite",
    });
    expect(found.spec?.replicas).toBe(manifest.spec.replicas);
  });
});
