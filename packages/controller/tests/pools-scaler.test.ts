import { randomUUID } from "node:crypto";
import {
  type PodDefinition,
  parsePodDefinition,
  resolveSettings,
  type SchedulerSettings,
} from "@ondemand-eks/core";
import { ClusterApi, kubeconfigAuth } from "@ondemand-eks/submitter";
import { type BuildkiteEmulator, startBuildkiteEmulator } from "@ondemand-eks/testenv";
import { describeWithCluster, kubeconfigPath } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  createControllerMetrics,
  PoolScaler,
  QueueMetricsClient,
  reconcilePools,
} from "../src/index.js";
import { recordingLogger } from "./recording-logger.js";

const CLUSTER_TOKEN = "emulated-cluster-token-sc4l3r";

describeWithCluster("PoolScaler against a real API server and the Buildkite emulator", () => {
  let api: ClusterApi;
  let buildkite: BuildkiteEmulator;
  const namespaces: string[] = [];

  /** A scaled pool on a queue of its own, its Deployment made at 0 replicas in a fresh namespace. */
  async function scaledPool(scaling: Record<string, unknown>) {
    const id = randomUUID().slice(0, 8);
    const namespace = `scaler-${id}`;
    await api.create("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
    });
    namespaces.push(namespace);
    const settings: SchedulerSettings = resolveSettings({
      namespace,
      privilegedNamespace: namespace,
    });
    const queue = `queue-${id}`;
    const definition: PodDefinition = parsePodDefinition({
      name: "scaled",
      mode: "long-polling",
      longPolling: { queue, scaling },
      agent: { image: "buildkite/agent:3" },
    });
    await reconcilePools({
      api,
      definitions: [definition],
      settings,
      namespaces: [namespace],
      replicasFor: () => 0,
      log: recordingLogger(),
    });
    const path = `/apis/apps/v1/namespaces/${namespace}/deployments/buildkite-agents-scaled`;
    const replicas = async () =>
      (await api.get<{ spec: { replicas?: number } }>(path)).spec.replicas;
    return { settings, queue, definition, replicas };
  }

  beforeAll(async () => {
    api = new ClusterApi({ auth: await kubeconfigAuth({ path: kubeconfigPath() }) });
    buildkite = await startBuildkiteEmulator({
      agentToken: "emulated-agent-token",
      clusterToken: CLUSTER_TOKEN,
    });
  });
  afterAll(async () => {
    for (const name of namespaces) await api.delete(`/api/v1/namespaces/${name}`);
    api.close();
    await buildkite?.close();
  });

  it("follows the queue up within the step and max, and down after the cool-down", async () => {
    // Prepare: a clock that moves 10 s per round (the metrics' shortest interval).
    const pool = await scaledPool({
      maxReplicas: 5,
      maxScaleOutStep: 2,
      scaleInCooldownSeconds: 30,
    });
    let now = 5_000_000;
    const log = recordingLogger();
    const metrics = createControllerMetrics();
    const scaler = new PoolScaler({
      api,
      metrics: new QueueMetricsClient({
        endpoint: buildkite.url,
        token: CLUSTER_TOKEN,
        now: () => now,
      }),
      settings: pool.settings,
      log,
      observer: metrics,
      now: () => now,
    });
    const round = async () => {
      now += 10_000;
      await scaler.scale([pool.definition]);
      return pool.replicas();
    };
    const jobs = [0, 1, 2, 3].map(() =>
      buildkite.createJob({ command: "true", queue: pool.queue }),
    );

    // Act and assess: 4 jobs, 2 pods a step.
    expect(await pool.replicas()).toBe(0);
    expect(await round()).toBe(2);
    expect(await round()).toBe(4);
    // 7 jobs: never past max.
    for (let i = 0; i < 3; i++)
      jobs.push(buildkite.createJob({ command: "true", queue: pool.queue }));
    expect(await round()).toBe(5);
    expect(scaler.desired().get("scaled")).toMatchObject({
      queue: pool.queue,
      replicas: 5,
      wanted: 5,
    });
    // The queue empties: nothing for 30 s after the last scale out, then down to 0.
    for (const id of jobs) buildkite.cancel(id);
    expect(await round()).toBe(5);
    expect(await round()).toBe(5);
    expect(await round()).toBe(5);
    expect(await round()).toBe(0);

    const text = await metrics.text();
    expect(text).toContain('ondemand_eks_pool_replicas{pool="scaled"} 0');
    expect(text).toContain('ondemand_eks_pool_scale_total{pool="scaled",direction="out"} 3');
    expect(text).toContain('ondemand_eks_pool_scale_total{pool="scaled",direction="in"} 1');
    expect(log.lines.filter((line) => line.msg.startsWith("pool scaled")).length).toBe(4);
  });

  it("freezes the replicas while the metrics answer 503, said once, and resumes", async () => {
    // Prepare: a pool at 3 for 3 jobs.
    const pool = await scaledPool({ maxReplicas: 10, scaleInCooldownSeconds: 0 });
    let now = 7_000_000;
    const log = recordingLogger();
    const scaler = new PoolScaler({
      api,
      metrics: new QueueMetricsClient({
        endpoint: buildkite.url,
        token: CLUSTER_TOKEN,
        now: () => now,
      }),
      settings: pool.settings,
      log,
      now: () => now,
    });
    const jobs = [0, 1, 2].map(() => buildkite.createJob({ command: "true", queue: pool.queue }));
    now += 10_000;
    await scaler.scale([pool.definition]);
    expect(await pool.replicas()).toBe(3);

    // Act: the queue empties while Buildkite's metrics fail twice in a row.
    for (const id of jobs) buildkite.cancel(id);
    buildkite.failMetrics(2, 503);
    now += 10_000;
    const first = await scaler.scale([pool.definition]);
    now += 10_000;
    const second = await scaler.scale([pool.definition]);
    const frozen = await pool.replicas();
    now += 10_000;
    await scaler.scale([pool.definition]);

    // Assess
    expect(first).toMatchObject([{ pool: "scaled", action: "frozen" }]);
    expect(second[0]?.reason).toContain("503");
    expect(frozen).toBe(3);
    expect(await pool.replicas()).toBe(0);
    const warnings = log.lines.filter((line) => line.level === "warn");
    expect(warnings).toEqual([
      expect.objectContaining({ msg: "pool scaling frozen: replicas left as they are" }),
    ]);
    expect(log.lines.map((line) => line.msg)).toContain(
      "pool scaling resumed: queue metrics read again",
    );
  });

  it("freezes the replicas when Buildkite cannot be reached, and only decides when told not to apply", async () => {
    // Prepare
    const pool = await scaledPool({ maxReplicas: 10, minReplicas: 1 });
    const stopped = await startBuildkiteEmulator({ agentToken: CLUSTER_TOKEN });
    await stopped.close();
    let now = 9_000_000;
    const unreachable = new PoolScaler({
      api,
      metrics: new QueueMetricsClient({
        endpoint: stopped.url,
        token: CLUSTER_TOKEN,
        now: () => now,
      }),
      settings: pool.settings,
      log: recordingLogger(),
      now: () => now,
    });
    const decideOnly = new PoolScaler({
      api,
      metrics: new QueueMetricsClient({
        endpoint: buildkite.url,
        token: CLUSTER_TOKEN,
        now: () => now,
      }),
      settings: pool.settings,
      log: recordingLogger(),
      apply: false,
      now: () => now,
    });
    buildkite.createJob({ command: "true", queue: pool.queue });
    buildkite.createJob({ command: "true", queue: pool.queue });

    // Act
    now += 10_000;
    const frozen = await unreachable.scale([pool.definition]);
    const decided = await decideOnly.scale([pool.definition]);

    // Assess: the pool stays at 0 (below its minimum, even), yet the desired count is known.
    expect(frozen).toMatchObject([{ action: "frozen" }]);
    expect(frozen[0]?.reason).toContain("could not be reached");
    expect(unreachable.desired().size).toBe(0);
    expect(decided).toMatchObject([{ action: "unchanged" }]);
    expect(decideOnly.desired().get("scaled")).toMatchObject({ replicas: 2, wanted: 2, at: now });
    expect(await pool.replicas()).toBe(0);
  });
});
