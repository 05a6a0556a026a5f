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
import { StacksApiError } from "./stacks/errors.js";

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
  /** The queues the last full pass read as paused: a queue unread now keeps its flag. */
  readonly lastPaused?: ReadonlySet<string>;
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
  /** Buildkite answered 404 for one of our stacks: it must be registered again. */
  readonly stackMissing?: boolean;
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
  let stackMissing = false;
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
      if (error instanceof StacksApiError && error.status === 404) stackMissing = true;
      // Unread: no job to schedule from it, and paused as the last read said, so that a
      // Buildkite error never resumes the held Jobs of a paused queue.
      listings.set(queue, { paused: context.lastPaused?.has(queue) ?? false, jobs: [] });
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
  const jobs: ObservedJob[] = ours.map(({ observed }) => observed);
  const bare = admissionOnly
    ? []
    : jobs.flatMap((observed, index) =>
        !observed.suspended &&
        observed.stopped === undefined &&
        observed.outcome === "running" &&
        observed.pods.length === 0 &&
        observed.startedAt !== undefined &&
        now - observed.startedAt >= context.limits.emptyJobGraceMs &&
        states?.get(observed.uuid) !== undefined
          ? [index]
          : [],
      );
  // At most PARALLEL at a time: in a quota outage every Job is bare.
  await inParallel(bare, PARALLEL, async (index) => {
    const observed = jobs[index] as ObservedJob;
    jobs[index] = {
      ...observed,
      events: await readJobEvents(api, observed, context.kubeTimeoutMs),
    };
  });

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

  // Reserve before making a Job for a listed job, as Buildkite's own stack does: a job
  // another stack took (or an agent) comes back not reserved, and is left to it.
  const reserved = await reserveListed(context, plan.actions, raw, problems);
  // An admission pass read no states: a Job about to be resumed is asked about first, so
  // a job cancelled while it waited is not started (the next full pass stops it).
  const unclaimed = admissionOnly ? await unclaimedOf(context, resumes, problems) : undefined;

  const byName = new Map(
    ours.map((job) => [`${job.observed.namespace}/${job.observed.name}`, job]),
  );
  const seenOf = (job: ObservedJob) => byName.get(`${job.namespace}/${job.name}`) as SeenJob;
  const act = new Actions(context, problems);
  let skipped = 0;

  // What frees capacity or stops work first, then new Jobs, then resumes.
  const order: PassAction["kind"][] = ["fail", "notify", "stop", "hold", "delete", "schedule"];
  for (const kind of [...order, "resume" as const]) {
    const actions = plan.actions.filter((action) => action.kind === kind);
    await inParallel(actions, PARALLEL, async (action) => {
      if (action.kind === "schedule" && !reserved.has(action.uuid)) return;
      if (action.kind === "resume" && unclaimed && !unclaimed.has(action.job.uuid)) return;
      if (!context.leading()) {
        skipped += 1;
        return;
      }
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
  if (skipped > 0) readProblems.push(`leadership lost: ${skipped} actions left to the next leader`);

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
  return { complete, plan, done, problems, paused, stackMissing };
}

/**
 * The states of `jobs`' Buildkite jobs, by queue's stack, as far as they could be read: a
 * job whose request failed stays unknown (nothing is decided about it); undefined when
 * nothing could be read.
 */
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
  let failed = 0;
  for (const [queue, uuids] of byQueue) {
    const read = await context.stacks.statesEach(context.stackKeyFor(queue), uuids);
    for (const [uuid, state] of read.states) states.set(uuid, state);
    if (read.errors.length > 0) {
      failed += read.errors.length;
      problems.push(`reading job states on queue ${queue}: ${messageOf(read.errors[0])}`);
    }
  }
  return failed > 0 && states.size === 0 ? undefined : states;
}

/**
 * Reserves, per queue, the listed jobs the plan would make Jobs for; resolves to those
 * Buildkite reserved for us. A queue whose reservation fails schedules nothing this pass.
 */
async function reserveListed(
  context: PassContext,
  actions: readonly PassAction[],
  raw: ReadonlyMap<string, { queue: string; job: unknown }>,
  problems: string[],
): Promise<Set<string>> {
  const byQueue = new Map<string, string[]>();
  for (const action of actions) {
    const listed = action.kind === "schedule" ? raw.get(action.uuid) : undefined;
    if (action.kind !== "schedule" || !listed) continue;
    byQueue.set(listed.queue, [...(byQueue.get(listed.queue) ?? []), action.uuid]);
  }
  const reserved = new Set<string>();
  for (const [queue, uuids] of byQueue) {
    if (!context.leading()) break;
    try {
      const answer = await context.stacks.reserve(
        context.stackKeyFor(queue),
        uuids,
        context.reservationSeconds,
      );
      for (const uuid of answer.reserved) reserved.add(uuid);
    } catch (error) {
      problems.push(`reserving on queue ${queue}: ${messageOf(error)}`);
    }
  }
  return reserved;
}

/** Which of the Jobs about to be resumed Buildkite still has scheduled or reserved. */
async function unclaimedOf(
  context: PassContext,
  resumes: readonly PassAction[],
  problems: string[],
): Promise<Set<string>> {
  const unclaimed = new Set<string>();
  const byQueue = new Map<string, string[]>();
  for (const action of resumes) {
    if (action.kind !== "resume") continue;
    byQueue.set(action.job.queue, [...(byQueue.get(action.job.queue) ?? []), action.job.uuid]);
  }
  for (const [queue, uuids] of byQueue) {
    const { states, errors } = await context.stacks.statesEach(context.stackKeyFor(queue), uuids);
    for (const [uuid, state] of states) {
      if (state === "scheduled" || state === "reserved") unclaimed.add(uuid);
    }
    if (errors.length > 0) problems.push(`reading states to resume: ${messageOf(errors[0])}`);
  }
  return unclaimed;
}
