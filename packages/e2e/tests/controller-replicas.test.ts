import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CoordinationV1Api, KubeConfig, type V1Lease } from "@kubernetes/client-node";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, expect, it } from "vitest";
import {
  HELLO,
  type RunningCli,
  schedulerFlags,
  startCli,
  startWorld,
  type World,
} from "./world.js";

// The controller at scale and across replicas: a cap that holds with 50 jobs, priority
// first; two replicas with one leader; the leader killed mid-pass, and nothing lost.
const world = await startWorld("e2e-controller-replicas");
afterAll(() => world.close());

const BIN = fileURLToPath(new URL("../../cli/dist/bin.js", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function controllerArgs(world: World, extra: string[]): string[] {
  return [
    "controller",
    ...schedulerFlags(world),
    ...["--buildkite-endpoint", world.local.buildkite.url, "--port", "0", "--host", "127.0.0.1"],
    ...["--reconcile-interval-seconds", "1", "--lease-duration-seconds", "4"],
    // The bundled linux-pool is not what these tests are about (pools.test.ts is).
    ...["--pools", "off"],
    ...extra,
  ];
}

/** Waits up to `ms` for `done()`. */
async function until(done: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) {
    if (await done()) return true;
  }
  return done();
}

/** The most intervals open at once. */
function mostAtOnce(intervals: readonly [number, number][]): number {
  const edges = intervals.flatMap(([from, to]) => [
    [from, 1],
    [to, -1],
  ]);
  // At equal times the end comes first: one job ending as another starts is not two.
  edges.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
  let open = 0;
  let most = 0;
  for (const [, step] of edges) {
    open += step as number;
    most = Math.max(most, open);
  }
  return most;
}

/** When the agent took the job and when it finished, from the emulator's timeline. */
function agentWindow(world: World, id: string): [number, number] {
  const timeline = world.local.buildkite.job(id).timeline;
  const at = (prefix: string) =>
    Date.parse(timeline.find((entry) => entry.event.startsWith(prefix))?.at ?? "");
  return [at("accepted by"), at("finished with exit status")];
}

describeWith(world.info, "the controller's cap", () => {
  const w = () => world.info.value as World;
  let controller: RunningCli | undefined;
  afterAll(async () => {
    await controller?.stop();
  });

  it("runs 50 jobs with --max-in-flight 5: never more than 5 at once, highest priority first, all finish", async () => {
    // Arrange: 50 jobs, five at each of ten priorities, created before the controller.
    const { buildkite } = w().local;
    const ids = Array.from({ length: 50 }, (_, i) =>
      buildkite.createJob({ command: HELLO, priority: i % 10 }),
    );

    // Act
    controller = startCli(
      controllerArgs(w(), ["--max-in-flight", "5", "--log-level", "debug"]),
      { BUILDKITE_CLUSTER_TOKEN: w().local.agentToken },
      /health and metrics on (\S+)/,
    );
    const url = await controller.announced;
    const over = await until(
      () => ids.every((id) => buildkite.job(id).state === "finished"),
      150_000,
    );
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const output = controller.output();
    expect(await controller.stop()).toBe(0);
    controller = undefined;

    // Assess: all ran, with exit 0.
    expect(over, output.slice(-3000)).toBe(true);
    for (const id of ids) expect(buildkite.job(id).exitStatus).toBe(0);
    // At most five agents held a job at any moment.
    expect(mostAtOnce(ids.map((id) => agentWindow(w(), id)))).toBeLessThanOrEqual(5);
    // Resumed in priority order: every pass took the best of what waited, so across
    // passes the priorities never rise.
    const priorities = output
      .split("\n")
      .filter((line) => line.includes('"msg":"resuming"'))
      .flatMap((line) =>
        [...String((JSON.parse(line) as { jobs: string }).jobs).matchAll(/priority (-?\d+)/g)].map(
          (match) => Number(match[1]),
        ),
      );
    expect(priorities).toHaveLength(50);
    expect(priorities).toEqual([...priorities].sort((a, b) => b - a));
    // What it did, on /metrics: every Job made by reconciliation (no event came), this
    // replica leading, and the Stacks API's calls by status.
    expect(metrics).toContain('ondemand_eks_jobs_reconciled_total{queue="default"} 50');
    expect(metrics).toContain("ondemand_eks_controller_leader 1");
    expect(metrics).toMatch(
      /ondemand_eks_stacks_api_requests_total\{call="[^"]+",status="200"\} \d+/,
    );
    expect(metrics).toMatch(/ondemand_eks_jobs_running\{queue="default"\} \d+/);
    // Registered its stack at start, deregistered it at shutdown.
    const calls = buildkite.requests().map((request) => request.event);
    expect(calls).toContainEqual(expect.stringMatching(/^POST \/v3\/stacks\/register/));
    expect(calls).toContainEqual(
      expect.stringMatching(/^POST \/v3\/stacks\/ondemand-eks-default\/deregister/),
    );
  });
});

describeWith(world.info, "two controller replicas", () => {
  const w = () => world.info.value as World;
  let child: ChildProcess | undefined;
  let second: RunningCli | undefined;
  afterAll(async () => {
    child?.kill("SIGKILL");
    await second?.stop();
  });

  const lease = async (): Promise<V1Lease | undefined> => {
    const config = new KubeConfig();
    config.loadFromFile(w().kubeconfig);
    return config
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: "ondemand-eks-controller", namespace: "ondemand-eks" })
      .catch(() => undefined);
  };

  it("has one leader; when it is killed mid-pass the other takes over and no job is lost or doubled", async () => {
    // Arrange: the first replica, a process of its own, leads.
    const token = w().local.agentToken;
    let childOutput = "";
    child = spawn(process.execPath, [BIN, ...controllerArgs(w(), [])], {
      env: { PATH: process.env.PATH, BUILDKITE_CLUSTER_TOKEN: token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      childOutput += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      childOutput += chunk.toString();
    });
    expect(await until(async () => Boolean((await lease())?.spec?.holderIdentity), 20_000)).toBe(
      true,
    );
    const first = (await lease())?.spec;
    second = startCli(
      controllerArgs(w(), []),
      { BUILDKITE_CLUSTER_TOKEN: token },
      /health and metrics on (\S+)/,
    );
    await second.announced;
    await sleep(2_000);
    const whileBoth = (await lease())?.spec;

    // Act: jobs with no events, and the leader killed as soon as it starts making Jobs.
    const { buildkite } = w().local;
    const ids = Array.from({ length: 20 }, () => buildkite.createJob({ command: HELLO }));
    const made = async () => {
      const jobs = await w().batch.listNamespacedJob({ namespace: "buildkite" });
      return jobs.items.filter((job) =>
        ids.includes(job.metadata?.labels?.["buildkite.com/job-uuid"] ?? ""),
      ).length;
    };
    for (const end = Date.now() + 30_000; Date.now() < end && (await made()) === 0; ) {
      await sleep(10);
    }
    const secondBefore = second.output();
    child.kill("SIGKILL");
    const madeByTheFirst = await made();
    const takenOver = await until(
      async () =>
        (await lease())?.spec?.holderIdentity !== first?.holderIdentity &&
        /stacks registered/.test(second?.output() ?? ""),
      30_000,
    );
    const over = await until(
      () => ids.every((id) => buildkite.job(id).state === "finished"),
      120_000,
    );
    const after = (await lease())?.spec;

    // Assess: one leader while both ran, the same one as before the second started.
    expect(whileBoth?.holderIdentity).toBe(first?.holderIdentity);
    expect(secondBefore).not.toMatch(/stacks registered/);
    expect(second.output()).toMatch(/stacks registered/);
    expect(takenOver, second.output()).toBe(true);
    expect(
      over,
      `the first made ${madeByTheFirst} of 20 Jobs\n${childOutput.slice(-2000)}\n---\n${second.output().slice(-2000)}`,
    ).toBe(true);
    // Then the other one.
    expect(after?.holderIdentity).not.toBe(first?.holderIdentity);
    expect(after?.leaseTransitions ?? 0).toBeGreaterThanOrEqual(1);
    // Every job ran once, in exactly one pod, with exit 0.
    for (const id of ids) {
      expect(buildkite.job(id).exitStatus).toBe(0);
      const pods = await w().core.listNamespacedPod({
        namespace: "buildkite",
        labelSelector: `buildkite.com/job-uuid=${id}`,
      });
      expect(pods.items, id).toHaveLength(1);
    }
    // As long as its waits together (20 + 2 + 30 + 30 + 120 s): on two cores beside the
    // other e2e files' control planes, the jobs after the takeover can take minutes.
  }, 240_000);
});
