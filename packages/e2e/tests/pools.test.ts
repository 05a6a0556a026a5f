import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AppsV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
} from "@kubernetes/client-node";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  cliOutput,
  type RunningCli,
  runToFinish,
  schedulerFlags,
  startCli,
  startWorld,
  type World,
} from "./world.js";

// Long-polling pools run by the controller: the pool's Deployment follows the queue's
// depth within its bounds, its real agents run the jobs, scaling freezes while
// Buildkite's metrics are unavailable, and a scale-in lets a busy agent finish its job.
const world = await startWorld("e2e-pools");
afterAll(() => world.close());

const POOL = "ci-pool";
const DEPLOYMENT = `buildkite-agents-${POOL}`;
const DEFAULT_DEFINITION = fileURLToPath(new URL("../../../pods/default.yaml", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A library holding `default` and a scaled pool on the queue "pool". */
async function poolLibrary(dir: string): Promise<void> {
  await copyFile(DEFAULT_DEFINITION, join(dir, "default.yaml"));
  await writeFile(
    join(dir, `${POOL}.yaml`),
    [
      `name: ${POOL}`,
      "description: A pool that follows the depth of the queue pool.",
      "extends: default",
      "mode: long-polling",
      "longPolling:",
      "  queue: pool",
      "  stopGraceSeconds: 30",
      "  scaling:",
      "    minReplicas: 0",
      "    maxReplicas: 2",
      "    scaleInCooldownSeconds: 1",
      "",
    ].join("\n"),
  );
}

/** Waits up to `ms` for `done()`. */
async function until(done: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) {
    if (await done()) return true;
  }
  return done();
}

describeWith(world.info, "long-polling pools under the controller", () => {
  const w = () => world.info.value as World;
  let library = "";
  let controller: RunningCli | undefined;
  let apps: AppsV1Api;
  let opsUrl = "";
  /** Every spec.replicas the test saw, in order. */
  const seen: number[] = [];

  const deployment = async (): Promise<V1Deployment | undefined> =>
    apps
      .readNamespacedDeployment({ name: DEPLOYMENT, namespace: w().local.namespace })
      .catch(() => undefined);
  const replicas = async (): Promise<number | undefined> => {
    const found = (await deployment())?.spec?.replicas;
    if (found !== undefined && seen.at(-1) !== found) seen.push(found);
    return found;
  };

  beforeAll(async () => {
    library = await mkdtemp(join(tmpdir(), "e2e-pools-"));
    await poolLibrary(library);
    const config = new KubeConfig();
    config.loadFromFile(w().kubeconfig);
    apps = config.makeApiClient(AppsV1Api);
    controller = startCli(
      [
        "controller",
        ...schedulerFlags(w()),
        ...["--library", library],
        ...["--buildkite-endpoint", w().local.buildkite.url, "--port", "0", "--host", "127.0.0.1"],
        ...["--reconcile-interval-seconds", "2", "--pool-interval-seconds", "10"],
        ...["--log-level", "debug"],
      ],
      { BUILDKITE_CLUSTER_TOKEN: w().local.agentToken },
      /health and metrics on (\S+)/,
    );
    opsUrl = await controller.announced;
  });

  afterAll(async () => {
    await controller?.stop();
    await rm(library, { recursive: true, force: true });
  });

  it("makes the pool's Deployment at its minimum, grows it with the queue, its agents run the jobs, then shrinks it", async () => {
    // The Deployment appears with the minimum: nothing is waiting.
    expect(await until(async () => (await replicas()) === 0, 30_000), controller?.output()).toBe(
      true,
    );
    const made = await deployment();
    expect(made?.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBe("ondemand-eks");
    expect(made?.spec?.template?.spec?.terminationGracePeriodSeconds).toBe(30);

    // Three jobs on the pool's queue: demand 3, held to the maximum of 2.
    const { buildkite } = w().local;
    const ids = [1, 2, 3].map((n) =>
      buildkite.createJob({
        command: `sleep 1; echo pool""ed ${n}`,
        agentQueryRules: ["queue=pool"],
      }),
    );
    expect(await until(async () => (await replicas()) === 2, 40_000), controller?.output()).toBe(
      true,
    );
    // What KEDA's metrics-api would read: the same decision.
    const served = await fetch(`${opsUrl}/pools/${POOL}`);
    expect(served.status).toBe(200);
    expect(await served.json()).toMatchObject({ pool: POOL, queue: "pool", desiredReplicas: 2 });
    expect((await fetch(`${opsUrl}/pools/not-a-pool`)).status).toBe(404);
    const ended = [];
    for (const id of ids) ended.push(await runToFinish(w(), id));
    for (const [index, job] of ended.entries()) {
      expect(job.exitStatus, job.story).toBe(0);
      expect(job.log).toContain(`pooled ${index + 1}`);
    }

    // Nothing left: back to the minimum after the cool-down.
    expect(await until(async () => (await replicas()) === 0, 40_000), controller?.output()).toBe(
      true,
    );
    // Never above the maximum, on the way up or down.
    expect(Math.max(...seen)).toBe(2);
    // Up, then down: from 0 to a peak of 2 and back, never turning twice.
    const peak = seen.indexOf(2);
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(0);
    expect(seen.slice(0, peak + 1)).toEqual([...seen.slice(0, peak + 1)].sort((a, b) => a - b));
    expect(seen.slice(peak)).toEqual([...seen.slice(peak)].sort((a, b) => b - a));
  });

  it("freezes the pool while Buildkite's queue metrics fail, then follows them again", async () => {
    // Three reads fail (the scaler reads every 10 s): 20 s or more without a decision.
    const { buildkite } = w().local;
    buildkite.failMetrics(3, 503);
    const id = buildkite.createJob({ command: "echo frozen", agentQueryRules: ["queue=pool"] });
    await sleep(15_000);
    expect(await replicas()).toBe(0);
    expect(controller?.output()).toMatch(/queue metrics/i);

    // Metrics answer again: the job gets an agent.
    const job = await runToFinish(w(), id);
    expect(job.exitStatus, job.story).toBe(0);
  });
});

describeWith(world.info, "pools with --pool-scaling off (KEDA sets the replicas)", () => {
  const w = () => world.info.value as World;

  it("every controller replica answers GET /pools with the queue's demand, and none changes the replicas", async () => {
    // Prepare: the pool of the first tests, and two replicas that only decide.
    const library = await mkdtemp(join(tmpdir(), "e2e-pools-keda-"));
    await poolLibrary(library);
    const config = new KubeConfig();
    config.loadFromFile(w().kubeconfig);
    const apps = config.makeApiClient(AppsV1Api);
    const { buildkite, namespace } = w().local;
    const replicas = async () =>
      (await apps.readNamespacedDeployment({ name: DEPLOYMENT, namespace })).spec?.replicas;
    const start = () =>
      startCli(
        [
          "controller",
          ...schedulerFlags(w()),
          ...["--library", library, "--pool-scaling", "off"],
          ...["--buildkite-endpoint", buildkite.url, "--port", "0", "--host", "127.0.0.1"],
          ...["--pool-interval-seconds", "10", "--lease-duration-seconds", "4"],
        ],
        { BUILDKITE_CLUSTER_TOKEN: w().local.agentToken },
        /health and metrics on (\S+)/,
      );
    // No agents: the jobs below stay scheduled, so the demand stays what they make it.
    await apps.patchNamespacedDeploymentScale(
      { name: DEPLOYMENT, namespace, body: { spec: { replicas: 0 } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const before = await replicas();
    const controllers = [start(), start()];
    try {
      const urls = await Promise.all(controllers.map((c) => c.announced));
      const ids = [1, 2].map(() =>
        buildkite.createJob({ command: "true", agentQueryRules: ["queue=pool"] }),
      );
      const demand = async (url: string) => {
        const answer = await fetch(`${url}/pools/${POOL}`);
        return answer.status === 200
          ? ((await answer.json()) as { desiredReplicas: number }).desiredReplicas
          : undefined;
      };

      // Act and assess: both replicas, leader or not, serve the demand (2 jobs: 2 pods).
      for (const url of urls) {
        expect(await until(async () => (await demand(url)) === 2, 40_000), url).toBe(true);
      }
      expect(await replicas()).toBe(before);
      for (const id of ids) buildkite.cancel(id);
    } finally {
      for (const controller of controllers) await controller.stop();
      await rm(library, { recursive: true, force: true });
    }
  });
});

describeWith(world.info, "a pool scaled in while its agent is busy", () => {
  const w = () => world.info.value as World;

  it("lets the agent finish its job before its pod goes", async () => {
    // A fixed pool of one, applied once; then its replicas set to 0 while a job runs,
    // as a scale-in that picks the busy pod would do.
    const library = await mkdtemp(join(tmpdir(), "e2e-pools-busy-"));
    await copyFile(DEFAULT_DEFINITION, join(library, "default.yaml"));
    await writeFile(
      join(library, "busy-pool.yaml"),
      [
        "name: busy-pool",
        "extends: default",
        "mode: long-polling",
        "longPolling:",
        "  queue: busy",
        "  replicas: 1",
        "  stopGraceSeconds: 30",
        "",
      ].join("\n"),
    );
    const config = new KubeConfig();
    config.loadFromFile(w().kubeconfig);
    const apps = config.makeApiClient(AppsV1Api);
    const { buildkite, namespace } = w().local;
    try {
      await cliOutput(["reconcile", "deployments", ...schedulerFlags(w()), "--library", library]);
      const id = buildkite.createJob({
        command: "sleep 4; echo finished after the scale-in",
        agentQueryRules: ["queue=busy"],
      });
      expect(await until(() => buildkite.job(id).state === "running", 40_000)).toBe(true);

      await apps.patchNamespacedDeploymentScale(
        { name: "buildkite-agents-busy-pool", namespace, body: { spec: { replicas: 0 } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );

      const job = await runToFinish(w(), id);
      expect(job.exitStatus, job.story).toBe(0);
      expect(job.log).toContain("finished after the scale-in");
      // The pod went once its agent was done.
      const core = w().core;
      expect(
        await until(
          async () =>
            (
              await core.listNamespacedPod({
                namespace,
                labelSelector: "ondemand-eks.io/pod-definition=busy-pool",
              })
            ).items.length === 0,
          30_000,
        ),
      ).toBe(true);
    } finally {
      await rm(library, { recursive: true, force: true });
    }
  });
});
