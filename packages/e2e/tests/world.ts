import { BatchV1Api, CoreV1Api, KubeConfig, type V1Job, type V1Pod } from "@kubernetes/client-node";
import { type CliIo, processIo, run } from "@ondemand-eks/cli";
import {
  type LocalBuildkite,
  type LocalBuildkiteOptions,
  type Prerequisite,
  skipUnlessCi,
  startLocalBuildkite,
  startTestControlPlane,
} from "@ondemand-eks/testenv";

/**
 * The world an end-to-end test runs in: a private control plane (with its scheduler), the
 * Buildkite emulator, and the test kubelet running pods with the real agent. Tests create
 * a job in the emulator, let it deliver "Job Scheduled" to an entry point, and wait for
 * the job to finish in both Buildkite and Kubernetes.
 */

export interface World {
  readonly kubeconfig: string;
  readonly local: LocalBuildkite;
  readonly batch: BatchV1Api;
  readonly core: CoreV1Api;
}

/**
 * Starts the world, or says why it cannot here (skipped; an error under CI=true); `options`
 * choose the kubelet's nodes and the namespace of the token Secret and of `local`.
 */
export async function startWorld(
  name: string,
  options: Pick<LocalBuildkiteOptions, "namespace" | "nodes"> = {},
): Promise<{ info: Prerequisite<World>; close: () => Promise<void> }> {
  const plane = await startTestControlPlane(name);
  if (!plane.info.available) return { info: plane.info, close: plane.teardown };
  const kubeconfig = plane.info.value.kubeconfig;
  let local: Prerequisite<LocalBuildkite>;
  try {
    local = await skipUnlessCi(() =>
      startLocalBuildkite({
        kubeconfig,
        ...options,
        log: (line) => process.stderr.write(`[${name}] ${line}\n`),
      }),
    );
  } catch (error) {
    await plane.teardown();
    throw error;
  }
  const close = async () => {
    await local.value?.close();
    await plane.teardown();
  };
  if (!local.available) return { info: local, close };
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  return {
    info: {
      available: true,
      value: {
        kubeconfig,
        local: local.value,
        batch: config.makeApiClient(BatchV1Api),
        core: config.makeApiClient(CoreV1Api),
      },
    },
    close,
  };
}

/**
 * `echo hello` written so that only its output says `hello`: the agent's log repeats the
 * command, and a test must not pass on that echo.
 */
export const HELLO = 'echo hel""lo';

/** The scheduler settings every entry point gets here: the cluster, and the emulator. */
export function schedulerFlags(world: World): string[] {
  return ["--kubeconfig", world.kubeconfig, "--agent-endpoint", world.local.buildkite.url];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ended = (job: V1Job) =>
  job.status?.conditions?.find(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  )?.type;

/** The pod of the job's Kubernetes Job, as the API server has it now. */
export async function podOf(world: World, id: string): Promise<V1Pod | undefined> {
  const pods = await world.core.listNamespacedPod({
    namespace: world.local.namespace,
    labelSelector: `buildkite.com/job-uuid=${id}`,
  });
  return pods.items[0];
}

/** What the emulator and the kubelet saw of a job: for an assertion's message. */
export async function story(world: World, id: string): Promise<string> {
  const { buildkite, kubelet, namespace } = world.local;
  const job = buildkite.job(id);
  const pods = await world.core
    .listNamespacedPod({ namespace, labelSelector: `buildkite.com/job-uuid=${id}` })
    .catch(() => ({ items: [] as V1Pod[] }));
  const podStory = await Promise.all(
    pods.items.map(async (pod) => {
      const name = pod.metadata?.name ?? "";
      const logs = await Promise.all(
        [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map(
          async (c) => `--- ${c.name}\n${await kubelet.containerLog(namespace, name, c.name)}`,
        ),
      );
      return `pod ${name} ${JSON.stringify(pod.status?.phase)} ${JSON.stringify(pod.status?.containerStatuses?.map((c) => c.state))}\n${logs.join("\n")}`;
    }),
  );
  return [
    `job ${id}: ${job.state}, exit ${job.exitStatus}`,
    ...job.timeline.map((entry) => `  ${entry.at} ${entry.event} ${entry.detail ?? ""}`),
    ...podStory,
  ].join("\n");
}

/** The end of a job: as Buildkite saw it, and as Kubernetes did. */
export interface Ended {
  readonly state: string;
  readonly exitStatus: number | undefined;
  readonly log: string;
  /** The agent that ran it. */
  readonly agent: string | undefined;
  /** `Complete` or `Failed`: the Kubernetes Job's end (undefined for pool agents). */
  readonly kubernetes: string | undefined;
  readonly story: string;
}

/**
 * Waits (50 s at most: two fit in a test's time) for the emulator's job to finish and, unless `withJob` is false,
 * its Kubernetes Job, `buildkite-<id>`, to end.
 */
async function waitForEnd(world: World, id: string, withJob: boolean): Promise<Ended> {
  const { buildkite, namespace } = world.local;
  const name = `buildkite-${id}`;
  let condition: string | undefined;
  for (let i = 0; i < 500; i++) {
    const job = buildkite.job(id);
    if (withJob) {
      const k8s = await world.batch.readNamespacedJob({ name, namespace }).catch(() => undefined);
      condition = k8s ? ended(k8s) : undefined;
    }
    const finished = job.state === "finished" || job.state === "canceled";
    if (finished && (condition || !withJob)) break;
    await sleep(100);
  }
  const job = buildkite.job(id);
  return {
    state: job.state,
    exitStatus: job.exitStatus,
    log: job.log,
    agent: job.agent,
    kubernetes: condition,
    story: await story(world, id),
  };
}

/** Waits for the job to finish in the emulator and its Kubernetes Job to end. */
export const runToEnd = (world: World, id: string) => waitForEnd(world, id, true);

/** Waits for the job to finish in the emulator (a pool agent ran it: no Job of its own). */
export const runToFinish = (world: World, id: string) => waitForEnd(world, id, false);

/** The standard output of a short CLI command run in-process; throws unless it exits 0. */
export async function cliOutput(argv: string[]): Promise<string> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    ...processIo(),
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
  };
  const status = await run(argv, io);
  if (status !== 0) throw new Error(`ondemand-eks ${argv.join(" ")} exited ${status}: ${stderr}`);
  return stdout;
}

/** A long-running CLI command in this process, until `stop()`. */
export interface RunningCli {
  /** Resolves with the first match of `pattern` in its standard error. */
  readonly announced: Promise<string>;
  output(): string;
  stop(): Promise<number>;
}

/** Runs `ondemand-eks <argv>` in-process with `env`, as its long-running commands run. */
export function startCli(argv: string[], env: Record<string, string>, pattern: RegExp): RunningCli {
  const controller = new AbortController();
  let output = "";
  let announce: (value: string) => void = () => {};
  const announced = new Promise<string>((resolve) => {
    announce = resolve;
  });
  const io: CliIo = {
    stdout: (text) => {
      output += text;
    },
    stderr: (text) => {
      output += text;
      const found = pattern.exec(text)?.[1];
      if (found !== undefined) announce(found);
    },
    readStdin: async () => "",
    readFile: processIo().readFile,
    env,
    shutdown: () => controller.signal,
  };
  const done = run(argv, io);
  void done.then((status) => announce(`exited ${status}: ${output}`));
  return {
    announced,
    output: () => output,
    stop: () => {
      controller.abort();
      return done;
    },
  };
}
