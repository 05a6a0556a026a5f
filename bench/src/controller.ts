import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import {
  OUR_JOBS,
  type PassContext,
  type PassReport,
  runPass,
  StacksClient,
} from "@ondemand-eks/controller";
import { createScheduler, readConfig, type Scheduler, silentLogger } from "@ondemand-eks/runtime";
import { type ClusterApi, type ClusterAuth, kubeconfigAuth } from "@ondemand-eks/submitter";
import {
  type BuildkiteEmulator,
  freePort,
  startBuildkiteEmulator,
  startTestControlPlane,
} from "@ondemand-eks/testenv";
import { applyControllerAccount, CONTROLLER_ACCOUNT } from "./controller-account.js";
import {
  type ControllerResults,
  type ControllerSize,
  controllerSize,
  listPages,
  type PassCost,
  type QuietRound,
} from "./controller-stats.js";
import { type InCluster, inCluster } from "./in-cluster.js";
import { startCli } from "./processes.js";

/**
 * The bench's `controller` section (issue 14): what one reconcile pass costs against
 * N scheduled jobs in the Buildkite emulator, in seconds, Stacks API calls and Kubernetes
 * calls, first with no Jobs in the cluster (every job scheduled) and then with every Job
 * there (nothing to do), beside a bare paged list of the same Jobs in the same round; and
 * the peak memory of `ondemand-eks controller` as a process with the largest N's Jobs in
 * the cluster: as deployed (`--in-cluster`, its own ServiceAccount's token) where this
 * machine allows it, and by the admin kubeconfig. On a control plane of its own without a controller manager: no pods are
 * made, so every Job stays without one (see `LIMITS`).
 *
 * @module
 */

export interface ControllerScale {
  /** Scheduled jobs per size, smallest first; the largest stays for the process's memory. */
  readonly controllerJobs: readonly number[];
  /** Passes with nothing to do per size, each with a bare list beside it. */
  readonly controllerRounds: number;
  /** Passes the controller process runs before its memory is read. */
  readonly controllerProcessPasses: number;
}

type Log = (line: string) => void;

const QUEUE = "default";
const NAMESPACES = ["buildkite", "buildkite-privileged"] as const;
/** The CLI's default stack key and its queue suffix, so the process finds the same stack. */
const STACK = `ondemand-eks-${QUEUE}`;
/** The emulator's agent token, also its cluster token (the CLI wants at least 20 characters). */
const TOKEN = "bench-controller-cluster-token-0123456789";

/**
 * The controller's defaults (from-settings.ts), but for `emptyJobGraceMs`: with no
 * controller manager no pod is ever made, and after the 30 s default every Job would
 * rightly fail as NoPod (events read, Buildkite told, Job suspended). A day keeps the
 * passes at what a cluster whose Jobs get pods would see.
 */
const LIMITS = {
  graceMs: 30_000,
  pendingTimeoutMs: 900_000,
  emptyJobGraceMs: 86_400_000,
  stoppedRetentionMs: 3_600_000,
};

const jobsPath = (namespace: string) => `/apis/batch/v1/namespaces/${namespace}/jobs`;

/** A ClusterAuth that counts its `headers()` calls: one per request sent, retries included. */
function countingAuth(base: ClusterAuth): { auth: ClusterAuth; requests: () => number } {
  let requests = 0;
  const auth: ClusterAuth = {
    server: base.server,
    tls: base.tls,
    description: base.description,
    headers: () => {
      requests += 1;
      return base.headers();
    },
    ...(base.refresh ? { refresh: () => base.refresh?.() ?? Promise.resolve(false) } : {}),
  };
  return { auth, requests: () => requests };
}

/** What a pass needs beyond the emulator: the scheduler, its API and the request count. */
interface Cluster {
  readonly scheduler: Scheduler;
  readonly api: ClusterApi;
  readonly kubeRequests: () => number;
}

/** Runs one pass and counts what it sent. */
async function measuredPass(
  context: PassContext,
  emulator: BuildkiteEmulator,
  cluster: Cluster,
): Promise<PassCost & { report: PassReport }> {
  const stacksBefore = emulator.requests().length;
  const kubeBefore = cluster.kubeRequests();
  const started = performance.now();
  const report = await runPass(context);
  const seconds = (performance.now() - started) / 1000;
  if (!report.complete) throw new Error(`controller pass: ${report.problems.join("; ")}`);
  return {
    seconds,
    stacks_calls: emulator.requests().length - stacksBefore,
    kube_calls: cluster.kubeRequests() - kubeBefore,
    report,
  };
}

/** Our Jobs in each namespace, with a bare paged list of every namespace: its seconds. */
async function bareList(api: ClusterApi): Promise<{ seconds: number; counts: number[] }> {
  const started = performance.now();
  const counts: number[] = [];
  for (const namespace of NAMESPACES) {
    const { items } = await api.list(jobsPath(namespace), {
      labelSelector: OUR_JOBS,
      timeoutMs: 60_000,
    });
    counts.push(items.length);
  }
  return { seconds: (performance.now() - started) / 1000, counts };
}

/** Deletes every Job in the section's namespaces and waits until none is listed. */
async function clearJobs(api: ClusterApi): Promise<void> {
  for (const namespace of NAMESPACES) {
    await api.delete(jobsPath(namespace), { propagationPolicy: "Background", timeoutMs: 120_000 });
  }
  for (;;) {
    const { counts } = await bareList(api);
    if (counts.every((count) => count === 0)) return;
    await sleep(500);
  }
}

/** The pass context the controller builds (controller.ts `#pass`), on this emulator. */
async function contextFor(emulator: BuildkiteEmulator, cluster: Cluster): Promise<PassContext> {
  const stacks = new StacksClient({ endpoint: emulator.url, token: TOKEN });
  const who = await stacks.whoami();
  await stacks.register({ key: STACK, queueKey: QUEUE });
  return {
    api: cluster.api,
    stacks,
    scheduler: cluster.scheduler,
    queues: [QUEUE],
    namespaces: NAMESPACES,
    stackKeyFor: (queue) => `ondemand-eks-${queue}`,
    organization: { slug: who.organizationSlug, uuid: who.organizationUuid },
    limits: LIMITS,
    reservationSeconds: 300,
    kubeTimeoutMs: 30_000,
    log: silentLogger,
    metrics: undefined,
    leading: () => true,
    now: Date.now,
  };
}

/** One size: N jobs scheduled, a pass that creates their Jobs, then quiet passes. */
async function measureSize(
  jobs: number,
  emulator: BuildkiteEmulator,
  cluster: Cluster,
  rounds: number,
  log: Log,
): Promise<ControllerSize> {
  for (let n = 0; n < jobs; n++) emulator.createJob({ command: "echo hello", queue: QUEUE });
  const context = await contextFor(emulator, cluster);

  const first = await measuredPass(context, emulator, cluster);
  const created = first.report.done.schedule;
  if (created !== jobs) throw new Error(`controller: ${jobs} jobs, the first pass made ${created}`);
  const { counts } = await bareList(cluster.api);
  log(
    `controller ${jobs}: first pass ${first.seconds.toFixed(2)} s, stacks ${first.stacks_calls}, kube ${first.kube_calls}; Jobs by namespace ${counts.join(", ")}`,
  );

  const quiet: QuietRound[] = [];
  for (let round = 0; round < rounds; round++) {
    const pass = await measuredPass(context, emulator, cluster);
    const total = Object.values(pass.report.done).reduce((sum, count) => sum + count, 0);
    if (total > 0)
      throw new Error(
        `controller ${jobs}: a quiet pass acted: ${JSON.stringify(pass.report.done)}`,
      );
    const bare = await bareList(cluster.api);
    quiet.push({ pass, bareListSeconds: bare.seconds });
    log(
      `controller ${jobs}, quiet round ${round + 1}: ${pass.seconds.toFixed(2)} s, stacks ${pass.stacks_calls}, kube ${pass.kube_calls}; bare list ${bare.seconds.toFixed(2)} s`,
    );
  }
  return controllerSize(jobs, { ...first, jobsCreated: created }, quiet, listPages(counts));
}

/** The sum of a counter's samples in Prometheus text, or 0 when absent. */
function counterTotal(text: string, name: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

/** How the process reaches the cluster: as in a pod, or by the admin kubeconfig. */
type ProcessAuth = { readonly pod: InCluster } | { readonly kubeconfig: string };

/**
 * `ondemand-eks controller` with the Deployment's V8 heap cap (192 MiB), passes every
 * second against the cluster and the emulator as the last size left them, until `passes`
 * are done: its peak resident set.
 */
async function processRss(
  auth: ProcessAuth,
  emulator: BuildkiteEmulator,
  passes: number,
): Promise<{ rssMb: number; passes: number }> {
  const port = await freePort();
  const child = startCli(
    [
      "controller",
      ...("pod" in auth ? ["--in-cluster"] : ["--kubeconfig", auth.kubeconfig]),
      "--buildkite-endpoint",
      emulator.url,
      "--agent-endpoint",
      emulator.url,
      "--empty-job-grace-seconds",
      String(LIMITS.emptyJobGraceMs / 1000),
      "--reconcile-interval-seconds",
      "1",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
    ],
    {
      BUILDKITE_CLUSTER_TOKEN: TOKEN,
      NODE_OPTIONS: "--max-old-space-size=192",
      ...("pod" in auth ? auth.pod.env : {}),
    },
    "pod" in auth ? auth.pod.wrap : undefined,
  );
  try {
    const deadline = Date.now() + 300_000;
    let done = 0;
    while (done < passes) {
      if (Date.now() > deadline) {
        throw new Error(`the controller ran ${done} passes in 300 s:\n${child.stderr()}`);
      }
      await sleep(250);
      const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (response) => (response.ok ? response.text() : ""),
        () => "",
      );
      done = counterTotal(text, "ondemand_eks_controller_passes_total");
    }
    return { rssMb: child.peakRssMb(), passes: done };
  } finally {
    await child.stop();
  }
}

const tenth = (value: number) => Math.round(value * 10) / 10;

/**
 * The process as deployed (in-cluster, as the controller's ServiceAccount) where this
 * machine can build a pod's view, then by the admin kubeconfig; only the latter where it
 * cannot (not root, no unshare).
 */
async function measureProcess(
  plane: { kubeconfig: string; server: string; caCert: string; dir: string },
  emulator: BuildkiteEmulator,
  jobs: number,
  passes: number,
  log: Log,
): Promise<ControllerResults["process"]> {
  await applyControllerAccount(plane.kubeconfig);
  const pod = await inCluster({
    kubeconfig: plane.kubeconfig,
    server: plane.server,
    caPem: await readFile(plane.caCert, "utf8"),
    dir: plane.dir,
    account: CONTROLLER_ACCOUNT,
  });
  const byKubeconfig = async () => {
    log(`controller: the process by kubeconfig, ${passes} passes over ${jobs} Jobs`);
    return processRss({ kubeconfig: plane.kubeconfig }, emulator, passes);
  };
  if (!pod) {
    const proc = await byKubeconfig();
    return { jobs, passes: proc.passes, rss_mb: tenth(proc.rssMb), auth: "kubeconfig" };
  }
  log(
    `controller: the process in-cluster as ${CONTROLLER_ACCOUNT}, ${passes} passes over ${jobs} Jobs`,
  );
  const deployed = await processRss({ pod }, emulator, passes);
  const admin = await byKubeconfig();
  return {
    jobs,
    passes: deployed.passes,
    rss_mb: tenth(deployed.rssMb),
    auth: "in-cluster",
    kubeconfig_rss_mb: tenth(admin.rssMb),
  };
}

/**
 * Starts the section's control plane, measures every size in `scale.controllerJobs`, then
 * the controller process with the largest size's Jobs, stops everything and returns the
 * figures.
 */
export async function runController(scale: ControllerScale, log: Log): Promise<ControllerResults> {
  const plane = await startTestControlPlane("bench-controller", { controllerManager: false });
  let scheduler: Scheduler | undefined;
  let emulator: BuildkiteEmulator | undefined;
  try {
    if (!plane.info.available) {
      throw new Error(`the controller section needs Go: ${plane.info.reason}`);
    }
    const { kubeconfig } = plane.info.value;
    const { scheduler: config } = await readConfig({
      scope: "controller",
      env: {},
      flags: { kubeconfig, agentEndpoint: "http://127.0.0.1:1/v3" },
    });
    const counted = countingAuth(await kubeconfigAuth({ path: kubeconfig }));
    scheduler = await createScheduler(config, { log: silentLogger, auth: counted.auth });
    const api = scheduler.submitter?.api();
    if (!api) throw new Error("controller: the scheduler has no cluster");
    const cluster: Cluster = { scheduler, api, kubeRequests: counted.requests };

    const sizes: ControllerSize[] = [];
    const largest = Math.max(...scale.controllerJobs);
    for (const jobs of scale.controllerJobs) {
      log(`controller: ${jobs} scheduled jobs`);
      emulator = await startBuildkiteEmulator({ agentToken: TOKEN });
      sizes.push(await measureSize(jobs, emulator, cluster, scale.controllerRounds, log));
      if (jobs === largest) break;
      await emulator.close();
      emulator = undefined;
      await clearJobs(api);
    }
    if (!emulator) throw new Error("controller: no size left its jobs for the process");

    if (!plane.state) throw new Error("controller: the control plane has no state");
    const { server, pki, dir } = plane.state;
    const proc = await measureProcess(
      { kubeconfig, server, caCert: pki.caCert, dir },
      emulator,
      largest,
      scale.controllerProcessPasses,
      log,
    );
    return { sizes, namespaces: NAMESPACES, rounds: scale.controllerRounds, process: proc };
  } finally {
    await emulator?.close();
    await scheduler?.close();
    await plane.teardown();
  }
}
