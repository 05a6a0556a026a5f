import { setTimeout as sleep } from "node:timers/promises";
import {
  type BuildkiteEmulator,
  type JobView,
  type LocalBuildkite,
  type Moto,
  startLocalBuildkite,
  startMoto,
  startTestControlPlane,
} from "@ondemand-eks/testenv";
import { type E2ePath, startE2ePaths } from "./e2e-paths.js";
import {
  type E2ePathName,
  type E2eResults,
  e2eResults,
  type JobMoments,
  type RoundPercentiles,
  roundPercentiles,
  type Split,
} from "./e2e-stats.js";
import { type JobWatch, watchJobs } from "./e2e-watch.js";

/**
 * The bench's `e2e` section: a Buildkite job from the emulator's event to the agent's
 * acquire call and to the job finished, through each entry point and through the polling
 * peer, on a control plane of its own with kube-scheduler, the controller manager and
 * the test kubelet running pods with the real buildkite-agent (as packages/e2e does).
 *
 * Jobs run one at a time (`echo hello`), each after a random pause of 200 to 1,200 ms, so
 * that the previous pod has wound down and a job's arrival falls anywhere in the poller's
 * one-second cycle. Each round measures every path in turn, in an order that rotates from
 * round to round; one unmeasured job per path warms them up first (the Lambda's cold start).
 *
 * @module
 */

export interface E2eScale {
  readonly e2eJobs: number;
  readonly e2eRounds: number;
}

type Log = (line: string) => void;

/** A job's timeline entry's time, in ms; throws with the timeline when it is missing. */
export function momentOf(view: JobView, prefix: string): number {
  const entry = view.timeline.find((e) => e.event.startsWith(prefix));
  if (!entry) {
    const story = view.timeline.map((e) => `  ${e.at} ${e.event} ${e.detail ?? ""}`).join("\n");
    throw new Error(`job ${view.id} has no "${prefix}" in its timeline:\n${story}`);
  }
  return Date.parse(entry.at);
}

/** Waits for the emulator's job to finish (or be canceled), `timeoutMs` at most. */
async function finished(buildkite: BuildkiteEmulator, id: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = buildkite.job(id);
    if (view.state === "finished" || view.state === "canceled") return view;
    if (Date.now() > deadline) return view;
    await sleep(25);
  }
}

/** Creates `echo hello` in the path's emulator and returns when each step happened. */
async function measureJob(path: E2ePath, watch: JobWatch, local: LocalBuildkite) {
  const id = path.buildkite.createJob({ command: "echo hello" });
  const jobCreated = await watch.createdAt(id, 60_000);
  const view = await finished(path.buildkite, id, 120_000);
  const pod = await watch.podName(id);
  if (view.exitStatus !== 0) {
    const story = view.timeline.map((e) => `  ${e.at} ${e.event} ${e.detail ?? ""}`).join("\n");
    const agentLog = pod ? await local.kubelet.containerLog(local.namespace, pod, "agent") : "";
    throw new Error(
      `${path.name}: job ${id} ended ${view.state}, exit ${view.exitStatus}:\n${story}\n` +
        `pod: ${pod ?? "none"}; ${await watch.podStatus(id)}\nagent log:\n${agentLog.slice(-3_000)}`,
    );
  }
  const times = pod ? local.kubelet.podTimes(local.namespace, pod) : undefined;
  const agentStarted = times?.started.agent;
  if (!times || agentStarted === undefined) {
    throw new Error(`${path.name}: the kubelet has no times for the pod of job ${id} (${pod})`);
  }
  const received = path.receivedAt(id);
  return {
    sent: momentOf(view, "event sent"),
    ...(received === undefined ? {} : { received }),
    jobCreated,
    bound: times.boundSeenAt,
    agentStarted,
    acquired: momentOf(view, "accepted by"),
    finished: momentOf(view, "finished with exit status"),
  } satisfies JobMoments;
}

/** Runs `count` jobs through `path`, one at a time, each after a random pause. */
async function runJobs(path: E2ePath, count: number, watch: JobWatch, local: LocalBuildkite) {
  const jobs: JobMoments[] = [];
  path.activate();
  try {
    for (let n = 0; n < count; n++) {
      await sleep(200 + Math.random() * 1_000);
      jobs.push(await measureJob(path, watch, local));
    }
  } finally {
    await path.deactivate();
  }
  return jobs;
}

/**
 * Starts the section's servers, measures every path for `scale.e2eRounds` rounds of
 * `scale.e2eJobs` jobs, stops everything and returns the figures.
 */
export async function runE2e(scale: E2eScale, log: Log): Promise<E2eResults> {
  const plane = await startTestControlPlane("bench-e2e");
  let local: LocalBuildkite | undefined;
  let moto: Moto | undefined;
  let watch: JobWatch | undefined;
  const paths: E2ePath[] = [];
  try {
    if (!plane.info.available) throw new Error(`the e2e section needs Go: ${plane.info.reason}`);
    const { kubeconfig } = plane.info.value;
    local = await startLocalBuildkite({ kubeconfig });
    moto = await startMoto("bench-e2e");
    watch = await watchJobs(kubeconfig, local.namespace);
    paths.push(...(await startE2ePaths({ kubeconfig, local, moto, log })));

    log("e2e: warming up (one job per path)");
    for (const path of paths) await runJobs(path, 1, watch, local);

    const rounds: Record<E2ePathName, Record<Split, RoundPercentiles>>[] = [];
    for (let round = 0; round < scale.e2eRounds; round++) {
      const order = [...paths.slice(round % paths.length), ...paths.slice(0, round % paths.length)];
      const results: Partial<Record<E2ePathName, Record<Split, RoundPercentiles>>> = {};
      for (const path of order) {
        const jobs = await runJobs(path, scale.e2eJobs, watch, local);
        results[path.name] = roundPercentiles(jobs);
        const p50 = results[path.name]?.event_to_acquire.p50;
        const ours = results[path.name]?.receipt_to_job.p50;
        log(
          `e2e round ${round + 1}: ${path.name} receipt to Job p50 ${ours} ms, event to acquire p50 ${p50} ms`,
        );
      }
      rounds.push(results as Record<E2ePathName, Record<Split, RoundPercentiles>>);
      await watch.clear();
    }
    return e2eResults(rounds, scale.e2eJobs);
  } finally {
    for (const path of paths) await path.stop().catch((e) => log(`e2e: stop: ${String(e)}`));
    await watch?.stop();
    await local?.close();
    await moto?.stop();
    await plane.teardown();
  }
}
