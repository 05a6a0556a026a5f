import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { V1Job } from "@kubernetes/client-node";
import { run } from "@ondemand-eks/cli";
import { type PassContext, runPass, StacksClient } from "@ondemand-eks/controller";
import { createScheduler, readConfig, silentLogger } from "@ondemand-eks/runtime";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, expect, it } from "vitest";
import {
  HELLO,
  podOf,
  runToEnd,
  schedulerFlags,
  startCli,
  startWorld,
  story,
  type World,
} from "./world.js";

// The lifecycle controller against the emulator's Stacks API, the local control plane and
// the test kubelet: jobs whose events never came start anyway; jobs whose pods cannot
// start fail in Buildkite with a reason; cancelled jobs stop before an agent starts.
const world = await startWorld("e2e-controller");
afterAll(() => world.close());

/** Pod definitions made to fail in each way a pod can (tests/controller-pods). */
const LIBRARY = fileURLToPath(new URL("./controller-pods", import.meta.url));
const STACK = "ondemand-eks-default";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The settings every controller run here gets. */
function controllerFlags(world: World, extra: string[] = []): string[] {
  return [
    "controller",
    ...schedulerFlags(world),
    ...["--buildkite-endpoint", world.local.buildkite.url, "--library", LIBRARY],
    ...extra,
  ];
}

/** `ondemand-eks controller --once`: its exit status and what it said. */
async function once(world: World, extra: string[] = [], token?: string) {
  let output = "";
  const status = await run([...controllerFlags(world, extra), "--once"], {
    stdout: (text) => {
      output += text;
    },
    stderr: (text) => {
      output += text;
    },
    readStdin: async () => "",
    readFile: async () => "",
    env: { BUILDKITE_CLUSTER_TOKEN: token ?? world.local.agentToken },
  });
  return { status, output };
}

/** Passes until `done()` holds (a minute at most); each pass is a fresh `--once`. */
async function passUntil(world: World, done: () => boolean | Promise<boolean>, extra: string[]) {
  for (let i = 0; i < 60 && !(await done()); i++) {
    const { status, output } = await once(world, extra);
    expect(status, output).toBe(0);
    await sleep(500);
  }
}

const jobOf = async (world: World, id: string): Promise<V1Job | undefined> => {
  for (const namespace of ["buildkite", "buildkite-privileged"]) {
    const found = await world.batch
      .readNamespacedJob({ name: `buildkite-${id}`, namespace })
      .catch(() => undefined);
    if (found) return found;
  }
  return undefined;
};

describeWith(world.info, "the controller: nothing lost", () => {
  const w = () => world.info.value as World;

  it("starts a job whose event never came within one pass, and reserves it for its stack", async () => {
    // Arrange: no event delivery is configured in this world.
    const id = w().local.buildkite.createJob({ command: HELLO });

    // Act
    const first = await once(w());
    const ended = await runToEnd(w(), id);
    const second = await once(w());

    // Assess
    expect(first.status, first.output).toBe(0);
    expect(first.output).toContain("schedule 1");
    expect(ended.exitStatus, ended.story).toBe(0);
    expect(ended.log).toContain("hello");
    expect(ended.story).toContain(`reserved by ${STACK}`);
    // The job is over and its Job made: the next pass has nothing to do.
    expect(second.output).toContain("nothing to do");
  });

  it("leaves a job another stack reserved to that stack", async () => {
    // Arrange: a second stack on the queue (another install, or Buildkite's own) took it.
    const { buildkite } = w().local;
    const other = new StacksClient({ endpoint: buildkite.url, token: w().local.agentToken });
    await other.register({ key: "someone-else-default", queueKey: "default" });
    const id = buildkite.createJob({ command: HELLO });
    const taken = await other.reserve("someone-else-default", [id]);

    // Act
    const pass = await once(w());

    // Assess
    expect(taken.reserved).toEqual([id]);
    expect(pass.status, pass.output).toBe(0);
    expect(pass.output).toContain("nothing to do");
    expect(await jobOf(w(), id)).toBeUndefined();
    buildkite.cancel(id);
  });

  it("starts nothing from a paused queue until it resumes", async () => {
    // Arrange
    const { buildkite } = w().local;
    buildkite.pauseQueue("default", true);
    const id = buildkite.createJob({ command: HELLO });

    // Act
    const paused = await once(w());
    const jobWhilePaused = await jobOf(w(), id);
    buildkite.pauseQueue("default", false);
    const resumed = await once(w());
    const ended = await runToEnd(w(), id);

    // Assess
    expect(paused.status, paused.output).toBe(0);
    expect(jobWhilePaused).toBeUndefined();
    expect(resumed.output).toContain("schedule 1");
    expect(ended.exitStatus, ended.story).toBe(0);
  });

  it("says once and clearly when Buildkite refuses the cluster token, without the token", async () => {
    // Act
    const token = "not-the-cluster-token-0123456789abcdef";
    const { status, output } = await once(w(), [], token);

    // Assess: exit 1 (a person must act), the refusal named, the token nowhere.
    expect(status, output).toBe(1);
    expect(output).toMatch(/refused the cluster token \(401\)/);
    expect(output).not.toContain(token);
  });

  it("keeps running with a refused token, not ready, and says so once", async () => {
    // Arrange
    const token = "not-the-cluster-token-0123456789abcdef";
    const running = startCli(
      [
        ...controllerFlags(w(), ["--port", "0", "--host", "127.0.0.1"]),
        ...["--reconcile-interval-seconds", "1", "--lease-name", "refused-token"],
      ],
      { BUILDKITE_CLUSTER_TOKEN: token },
      /health and metrics on (\S+)/,
    );
    const url = await running.announced;

    // Act: a few passes' worth of time.
    await sleep(3_500);
    const ready = await fetch(`${url}/readyz`);
    const alive = await fetch(`${url}/healthz`);
    const status = await running.stop();

    // Assess
    expect(ready.status).toBe(503);
    expect(alive.status).toBe(200);
    expect(status).toBe(0);
    const said = running.output().match(/refused the cluster token/g) ?? [];
    expect(said, running.output()).toHaveLength(1);
    expect(running.output()).not.toContain(token);
  });
});

describeWith(world.info, "a late event, checked in Buildkite first", () => {
  const w = () => world.info.value as World;

  it("makes no Job when serve http gets a late redelivery of a job already cancelled", async () => {
    // Arrange: a stack to ask through (the controller registers it), a cancelled job, and
    // the webhook it was scheduled with, arriving now, after the threshold.
    const { buildkite } = w().local;
    await once(w());
    const id = buildkite.createJob({ command: HELLO });
    buildkite.cancel(id);
    const token = "e2e-late-webhook-token-0123456789abcdef01";
    const tokenFile = join(w().kubeconfig, "..", "late-webhook-token");
    await writeFile(tokenFile, token, { mode: 0o600 });
    const server = startCli(
      [
        "serve",
        "http",
        ...["--port", "0", "--host", "127.0.0.1", "--webhook-token-file", tokenFile],
        ...["--buildkite-endpoint", buildkite.url, "--stale-event-seconds", "1"],
        ...schedulerFlags(w()),
      ],
      { BUILDKITE_CLUSTER_TOKEN: w().local.agentToken },
      /listening on (\S+)/,
    );
    const url = await server.announced;
    await sleep(1_100);

    // Act
    const answer = await fetch(`${url}/webhook`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-buildkite-event": "job.scheduled",
        "x-buildkite-token": token,
      },
      body: JSON.stringify(buildkite.scheduledWebhook(id)),
    });
    const said = await answer.text();
    const status = await server.stop();

    // Assess: acknowledged (nothing to retry), no Job, and the reason in the log.
    expect(answer.status, said).toBe(200);
    expect(status).toBe(0);
    expect(await jobOf(w(), id)).toBeUndefined();
    expect(server.output()).toMatch(/already canceled in Buildkite/);
  });
});

describeWith(world.info, "the controller: a pod that cannot start fails its job", () => {
  const w = () => world.info.value as World;
  const limits = [
    ...["--image-pull-grace-seconds", "1", "--pending-timeout-seconds", "4"],
    ...["--empty-job-grace-seconds", "4"],
  ];

  it("fails each with exit -1 and a detail a pipeline author can act on, then stops its Job", async () => {
    // Arrange: one job per way of failing, all at once.
    const { buildkite } = w().local;
    const cases = {
      "bad-pull":
        /image "registry\.invalid\/ci\/agent:1" could not be pulled for \d+ s \((ErrImagePull|ImagePullBackOff)\)/,
      "bad-name": /not a valid image reference \(InvalidImageName\)/,
      "missing-secret": /CreateContainerConfigError.*Secret or ConfigMap/,
      nowhere:
        /could not be scheduled for \d+ s: .*node\(s\) didn't match Pod's node affinity\/selector/,
      "no-account": /no pod .*serviceaccount "nobody-made-this" not found/i,
      "failing-init": /init container "fetch-tools" exited with status 3/,
      "main-only": /cannot run this job: .*pipelines/,
      "not-a-definition": /cannot run this job: .*not-a-definition/,
    } as const;
    const ids = Object.fromEntries(
      Object.keys(cases).map((pod) => [
        pod,
        buildkite.createJob({ command: HELLO, agentQueryRules: ["queue=default", `pod=${pod}`] }),
      ]),
    ) as Record<keyof typeof cases, string>;
    const over = () => Object.values(ids).every((id) => buildkite.job(id).state === "finished");

    // Act
    await passUntil(w(), over, limits);

    // Assess
    for (const [pod, detail] of Object.entries(cases)) {
      const id = ids[pod as keyof typeof cases];
      const job = buildkite.job(id);
      const told = await story(w(), id);
      expect(job.state, `${pod}\n${told}`).toBe("finished");
      expect(job.exitStatus, `${pod}\n${told}`).toBe(-1);
      const error = job.timeline.find((entry) => entry.event === `stack error from ${STACK}`);
      expect(error?.detail, `${pod}\n${told}`).toMatch(detail);
      // No agent ever took it.
      expect(job.agent, pod).toBeUndefined();
      const k8s = await jobOf(w(), id);
      if (pod === "main-only" || pod === "not-a-definition") {
        expect(k8s, pod).toBeUndefined();
      } else {
        expect(k8s?.spec?.suspend, pod).toBe(true);
        expect(k8s?.metadata?.annotations?.["ondemand-eks.io/stopped"], pod).toMatch(/^failed: /);
      }
    }
  });
});

describeWith(world.info, "the controller: a pod that dies before its agent took the job", () => {
  const w = () => world.info.value as World;

  it("fails the job with what killed the pod (out of memory)", async () => {
    // Arrange: the pod is still in its init container, so no agent has the job.
    const { buildkite, kubelet } = w().local;
    const id = buildkite.createJob({
      command: HELLO,
      agentQueryRules: ["queue=default", "pod=slow-init"],
    });
    await once(w());
    let started = false;
    for (let i = 0; i < 100 && !started; i++) {
      const pod = await podOf(w(), id);
      started = pod?.status?.initContainerStatuses?.[0]?.state?.running !== undefined;
      if (!started) await sleep(100);
    }
    const pod = await podOf(w(), id);

    // Act
    const killed = kubelet.oomKill("buildkite", pod?.metadata?.name ?? "", "prepare");
    await passUntil(w(), () => buildkite.job(id).state === "finished", []);

    // Assess
    expect(started && killed).toBe(true);
    const job = buildkite.job(id);
    expect(job.exitStatus, await story(w(), id)).toBe(-1);
    const error = job.timeline.find((entry) => entry.event === `stack error from ${STACK}`);
    expect(error?.detail).toMatch(/"prepare" exited with status 137 \(OOMKilled\)/);
    expect(job.agent).toBeUndefined();
  });
});

describeWith(world.info, "the controller when Buildkite cannot be read", () => {
  const w = () => world.info.value as World;

  it("fails, stops and deletes nothing on what it could not read, and does it once Buildkite answers", async () => {
    // Arrange: a job whose pod can never start (InvalidImageName fails at once), its Job
    // made by a first pass; then Buildkite answering 503 to every Stacks API call.
    const { buildkite } = w().local;
    const id = buildkite.createJob({
      command: HELLO,
      agentQueryRules: ["queue=default", "pod=bad-name"],
    });
    await once(w());
    for (let i = 0; i < 50; i++) {
      const pod = await podOf(w(), id);
      const waiting = pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (waiting === "InvalidImageName") break;
      await sleep(100);
    }
    const { scheduler: config } = await readConfig({
      scope: "controller",
      env: {},
      flags: { kubeconfig: w().kubeconfig, agentEndpoint: buildkite.url, library: LIBRARY },
    });
    const scheduler = await createScheduler(config, { log: silentLogger });
    const api = scheduler.submitter?.api();
    if (!api) throw new Error("no cluster");
    const stacks = new StacksClient({
      endpoint: buildkite.url,
      token: w().local.agentToken,
      timeoutMs: 500,
    });
    const context: PassContext = {
      api,
      stacks,
      scheduler,
      queues: ["default"],
      namespaces: ["buildkite", "buildkite-privileged"],
      stackKeyFor: (queue) => `ondemand-eks-${queue}`,
      organization: { slug: "emulated", uuid: "" },
      limits: {
        graceMs: 1_000,
        pendingTimeoutMs: 900_000,
        emptyJobGraceMs: 30_000,
        stoppedRetentionMs: 3_600_000,
      },
      reservationSeconds: 300,
      kubeTimeoutMs: 10_000,
      log: silentLogger,
      metrics: undefined,
      leading: () => true,
      now: Date.now,
    };

    try {
      // Act
      buildkite.failStacks(10_000, 503);
      const blind = await runPass(context);
      buildkite.failStacks(0, 503);
      const seeing = await runPass(context);

      // Assess: blind, an incomplete pass that did nothing; seeing, the job failed.
      expect(blind.complete).toBe(false);
      expect(blind.problems.join("\n")).toMatch(/503/);
      expect(Object.values(blind.done).every((count) => count === 0)).toBe(true);
      expect(seeing.complete, seeing.problems.join("\n")).toBe(true);
      expect(seeing.done.fail).toBe(1);
      expect(buildkite.job(id).exitStatus).toBe(-1);
    } finally {
      buildkite.failStacks(0, 503);
      await scheduler.close();
    }
  });
});

describeWith(world.info, "the controller: cancellation", () => {
  const w = () => world.info.value as World;

  it("never touches a Job it did not make, whatever its name", async () => {
    // Arrange: a cancelled job, and a Job under its name made by someone else (no
    // managed-by label) whose pod cannot be placed: were it ours, it would be stopped.
    const { buildkite } = w().local;
    const id = buildkite.createJob({ command: HELLO });
    buildkite.cancel(id);
    await w().batch.createNamespacedJob({
      namespace: "buildkite",
      body: {
        metadata: { name: `buildkite-${id}`, labels: { "buildkite.com/job-uuid": id } },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels: { "buildkite.com/job-uuid": id } },
            spec: {
              restartPolicy: "Never",
              nodeSelector: { "ondemand-eks.io/nowhere": "true" },
              containers: [{ name: "theirs", image: "busybox:1" }],
            },
          },
        },
      },
    });

    // Act
    const pass = await once(w());

    // Assess
    expect(pass.status, pass.output).toBe(0);
    const theirs = await w().batch.readNamespacedJob({
      name: `buildkite-${id}`,
      namespace: "buildkite",
    });
    expect(theirs.spec?.suspend ?? false).toBe(false);
    expect(theirs.metadata?.annotations ?? {}).toEqual({});
    await w().batch.deleteNamespacedJob({
      name: `buildkite-${id}`,
      namespace: "buildkite",
      propagationPolicy: "Background",
    });
  });

  it("stops the Job of a job cancelled before its agent started, and a late duplicate event starts nothing", async () => {
    // Arrange: a pod that stays pending, so no agent can take the job.
    const { buildkite } = w().local;
    const id = buildkite.createJob({
      command: HELLO,
      agentQueryRules: ["queue=default", "pod=nowhere"],
    });
    await once(w());
    const pending = await podOf(w(), id);

    // Act
    buildkite.cancel(id);
    const stopped = await once(w());
    const duplicate = await run(
      ["schedule", "--event", "-", "--library", LIBRARY, ...schedulerFlags(w())],
      {
        stdout: () => {},
        stderr: () => {},
        readStdin: async () => JSON.stringify(buildkite.scheduledWebhook(id)),
        readFile: async () => "",
        env: {},
      },
    );
    let pods = 1;
    for (let i = 0; i < 50 && pods > 0; i++) {
      await sleep(100);
      pods = (
        await w().core.listNamespacedPod({
          namespace: "buildkite",
          labelSelector: `buildkite.com/job-uuid=${id}`,
        })
      ).items.filter((pod) => !pod.metadata?.deletionTimestamp).length;
    }

    // Assess
    expect(pending?.status?.phase).toBe("Pending");
    expect(stopped.output).toContain("stop 1");
    const k8s = await jobOf(w(), id);
    expect(k8s?.spec?.suspend).toBe(true);
    expect(k8s?.metadata?.annotations?.["ondemand-eks.io/stopped"]).toBe("cancelled");
    expect(pods, "the pending pod was deleted").toBe(0);
    // The tombstone keeps the name: the duplicate ends `exists`, exit 0, and no pod.
    expect(duplicate).toBe(0);
    expect((await podOf(w(), id))?.metadata?.deletionTimestamp ?? undefined).toBeUndefined();
    expect(buildkite.job(id).state).toBe("canceled");
  });
});
