import {
  type Logger,
  type ObservedJob,
  type PassAction,
  type PassLimits,
  type PassPlan,
  planPass,
  type QueueListing,
} from "@ondemand-eks/core";
import type { Scheduler } from "@ondemand-eks/runtime";
import type { ClusterApi } from "@ondemand-eks/submitter";
import { Actions, messageOf } from "./actions.js";
import { readJobEvents, readJobs, type SeenJob } from "./cluster-view.js";
import type { ControllerMetrics } from "./metrics.js";
import type { StacksClient } from "./stacks/client.js";

/** Everything one pass reads from and writes to, built once by the controller. */
export interface PassContext {
  readonly api: ClusterApi;
  readonly stacks: StacksClient;
  readonly scheduler: Scheduler;
  readonly queues: readonly string[];
  /** The namespaces our Jobs live in: the job namespace and the privileged one. */
  readonly namespaces: readonly string[];
  readonly stackKeyFor: (queue: string) => string;
  /** The organization of the cluster token, for the Stacks API's jobs (which do not name it). */
  readonly organization: { readonly slug: string; readonly uuid: string };
  readonly limits: PassLimits;
  /** How long a reservation holds, in seconds. */
  readonly reservationSeconds: number;
  /** Deadline of each Kubernetes call. */
  readonly kubeTimeoutMs: number;
  readonly log: Logger;
  readonly metrics: ControllerMetrics | undefined;
  /**
   * An admission pass: no Buildkite call, only resumes within the caps (and old
   * tombstones), between full passes, so a Job waiting for capacity starts within a
   * second of it freeing. `paused` are the queues the last full pass saw paused.
   */
  readonly admissionOnly?: { readonly paused: ReadonlySet<string> };
  /** Whether we still lead: checked before every write. */
  readonly leading: () => boolean;
  readonly now: () => number;
}

/** What a pass did, for logs and tests. */
export interface PassReport {
  /** false when a read failed: nothing was decided on what could not be read. */
  readonly complete: boolean;
  readonly plan: PassPlan | undefined;
  /** Actions taken, by kind. */
  readonly done: Readonly<Record<PassAction["kind"], number>>;
  readonly problems: readonly string[];
  /** The queues this pass read as paused. */
  readonly paused: ReadonlySet<string>;
}

/** Most writes in flight at once: enough to make 10,000 Jobs quickly, not a flood. */
const PARALLEL = 16;

/** Runs `work` over `items`, at most `limit` at a time. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * One pass of the controller: read the cluster and Buildkite, plan (core's
 * {@link planPass}, pure), act. Every action is idempotent, so a pass cut short (the
 * process killed, leadership lost) is finished by the next one.
 *
 * @example
 * const report = await runPass(context);
 */
export async function runPass(context: PassContext): Promise<PassReport> {
  const { api, stacks, log } = context;
  /** Reads that failed: nothing is decided on what they would have said. */
  const readProblems: string[] = [];
  /** Writes that failed: the next pass tries again. */
  const problems: string[] = [];
  const done = { schedule: 0, fail: 0, notify: 0, stop: 0, hold: 0, resume: 0, delete: 0 };

  let seen: SeenJob[];
  try {
    seen = await readJobs(api, context.namespaces, context.kubeTimeoutMs);
  } catch (error) {
    // Without the cluster's state nothing can be decided: not even what to schedule.
    problems.push(`reading Jobs: ${messageOf(error)}`);
    return { complete: false, plan: undefined, done, problems, paused: new Set() };
  }
  const served = new Set(context.queues);
  const ours = seen.filter((job) => served.has(job.observed.queue));

  // Scheduled jobs per queue, all pages; a queue that cannot be read is left out.
  const listings = new Map<string, QueueListing>();
  const raw = new Map<string, { queue: string; job: unknown }>();
  const admissionOnly = context.admissionOnly;
  for (const queue of admissionOnly ? [] : context.queues) {
    try {
      const listing = await stacks.scheduledJobs(context.stackKeyFor(queue), queue);
      listings.set(queue, {
        paused: listing.paused,
        jobs: listing.jobs.map((job) => ({ uuid: job.uuid, priority: job.priority })),
      });
      for (const job of listing.jobs) raw.set(job.uuid, { queue, job: job.raw });
    } catch (error) {
      readProblems.push(`listing queue ${queue}: ${messageOf(error)}`);
    }
  }

  if (admissionOnly) {
    for (const queue of context.queues) {
      listings.set(queue, { paused: admissionOnly.paused.has(queue), jobs: [] });
    }
  }
  // Buildkite's state of every Job that may still need us (none read for admission:
  // without states, the plan only resumes and deletes old tombstones).
  const states = admissionOnly ? undefined : await readStates(context, ours, readProblems);

  // Events only for Jobs that got no pod: why is in them (quota, missing ServiceAccount).
  const now = context.now();
  const jobs: ObservedJob[] = await Promise.all(
    ours.map(async ({ observed }) => {
      const since = observed.startedAt ?? observed.createdAt;
      const bare =
        !observed.suspended &&
        observed.stopped === undefined &&
        observed.outcome === "running" &&
        observed.pods.length === 0 &&
        now - since >= context.limits.emptyJobGraceMs;
      if (!bare || admissionOnly) return observed;
      return { ...observed, events: await readJobEvents(api, observed, context.kubeTimeoutMs) };
    }),
  );

  const plan = planPass({
    now,
    queues: context.queues,
    jobs,
    states,
    listings,
    limits: context.limits,
  });
  context.metrics?.jobs(plan.counts);

  const resumes = plan.actions.filter((action) => action.kind === "resume");
  if (resumes.length > 0) {
    // In the order chosen: highest Buildkite priority first, then oldest.
    log.debug("resuming", {
      jobs: resumes
        .map(({ job }) => `${job.uuid} (${job.queue}, priority ${job.priority})`)
        .join(", "),
    });
  }

  const byName = new Map(
    ours.map((job) => [`${job.observed.namespace}/${job.observed.name}`, job]),
  );
  const seenOf = (job: ObservedJob) => byName.get(`${job.namespace}/${job.name}`) as SeenJob;
  const act = new Actions(context, problems);

  // What frees capacity or stops work first, then new Jobs, then resumes.
  const order: PassAction["kind"][] = ["fail", "notify", "stop", "hold", "delete", "schedule"];
  for (const kind of [...order, "resume" as const]) {
    const actions = plan.actions.filter((action) => action.kind === kind);
    await inParallel(actions, PARALLEL, async (action) => {
      if (!context.leading()) return;
      const ok = await act.run(action, seenOf, raw);
      if (!ok) return;
      done[action.kind] += 1;
      if (action.kind === "fail" || action.kind === "notify") {
        log.info(action.kind === "fail" ? "job failed to start" : "job notified", {
          job: action.job.uuid,
          queue: action.job.queue,
          reason: action.reason,
          detail: action.detail,
        });
      } else if (action.kind === "stop") {
        log.info("job stopped", { job: action.job.uuid, reason: action.reason });
      }
    });
  }
  await act.reserveScheduled();

  const paused = new Set(
    [...listings].filter(([, listing]) => listing.paused).map(([queue]) => queue),
  );
  // Complete when everything was read; a write refused (a race, say) is retried by the
  // next pass, and only reported.
  const complete = readProblems.length === 0;
  problems.unshift(...readProblems);
  const total = Object.values(done).reduce((sum, count) => sum + count, 0);
  if (total > 0 || !complete) {
    log[complete ? "info" : "warn"]("controller pass", { ...done, problems: problems.join("; ") });
  }
  return { complete, plan, done, problems, paused };
}

/** The states of `jobs`' Buildkite jobs, by queue's stack; undefined when any read failed. */
async function readStates(
  context: PassContext,
  jobs: readonly SeenJob[],
  problems: string[],
): Promise<Map<string, string> | undefined> {
  const byQueue = new Map<string, string[]>();
  for (const { observed } of jobs) {
    if (observed.stopped !== undefined || observed.outcome === "succeeded") continue;
    byQueue.set(observed.queue, [...(byQueue.get(observed.queue) ?? []), observed.uuid]);
  }
  const states = new Map<string, string>();
  try {
    for (const [queue, uuids] of byQueue) {
      for (const [uuid, state] of await context.stacks.states(context.stackKeyFor(queue), uuids)) {
        states.set(uuid, state);
      }
    }
  } catch (error) {
    problems.push(`reading job states: ${messageOf(error)}`);
    return undefined;
  }
  return states;
}
