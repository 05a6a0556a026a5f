import { ANNOTATIONS, type ObservedJob, type PassAction } from "@ondemand-eks/core";
import type { SeenJob } from "./cluster-view.js";
import type { PassContext } from "./pass.js";

/** An error's message, for a problem line. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The writes of one pass. Each returns whether it took effect; a failure is noted, not thrown. */
export class Actions {
  readonly #context: PassContext;
  readonly #problems: string[];

  constructor(context: PassContext, problems: string[]) {
    this.#context = context;
    this.#problems = problems;
  }

  async run(
    action: PassAction,
    seenOf: (job: ObservedJob) => SeenJob,
    raw: ReadonlyMap<string, { queue: string; job: unknown }>,
  ): Promise<boolean> {
    try {
      switch (action.kind) {
        case "schedule":
          return await this.#schedule(action.uuid, raw.get(action.uuid));
        case "fail":
          return await this.#fail(seenOf(action.job), action.reason, action.detail);
        case "notify":
          return await this.#notify(seenOf(action.job), action.detail);
        case "stop":
          await this.#suspend(seenOf(action.job), { reason: action.reason });
          if (action.reason === "cancelled") this.#context.metrics?.cancelled(action.job.queue);
          return true;
        case "hold":
          await this.#suspend(seenOf(action.job));
          return true;
        case "resume":
          await this.#patch(seenOf(action.job), { spec: { suspend: false } });
          return true;
        case "delete": {
          const job = seenOf(action.job);
          await this.#context.api.delete(job.path, {
            propagationPolicy: "Background",
            ...(job.uid ? { preconditions: { uid: job.uid } } : {}),
            timeoutMs: this.#context.kubeTimeoutMs,
          });
          return true;
        }
      }
    } catch (error) {
      const what = "uuid" in action ? action.uuid : action.job.uuid;
      this.#problems.push(`${action.kind} ${what}: ${messageOf(error)}`);
      return false;
    }
  }

  /** A scheduled job without a Job: through the scheduling path, as its event would have. */
  async #schedule(uuid: string, listed: { queue: string; job: unknown } | undefined) {
    if (!listed) return false;
    const context = this.#context;
    const outcome = await context.scheduler.schedule(
      listed.job,
      { source: "reconcile" },
      { form: "stacks", organization: context.organization },
    );
    switch (outcome.outcome) {
      case "created":
      case "exists":
        if (outcome.outcome === "created") context.metrics?.reconciled(listed.queue);
        return true;
      case "invalid": {
        // What the job asks for can never run here (an unknown definition, one it may not
        // use, bad rules): it fails now instead of waiting forever. A refusal that is not
        // the pipeline's to fix (the API server's, or a listing we cannot read) is only
        // reported, and tried again at the next pass.
        if (outcome.refusedBy !== "job" && outcome.refusedBy !== "access") {
          throw new Error(`not scheduled (${outcome.refusedBy}): ${outcome.reason}`);
        }
        const detail = `ondemand-eks cannot run this job: ${outcome.reason}`;
        await context.stacks.finish(context.stackKeyFor(listed.queue), uuid, {
          exitStatus: -1,
          detail,
        });
        context.metrics?.failedToStart("Refused");
        return true;
      }
      case "failed":
        throw new Error(`not scheduled: ${outcome.reason}`);
      default:
        return false;
    }
  }

  async #fail(job: SeenJob, reason: string, detail: string): Promise<boolean> {
    const { observed } = job;
    const context = this.#context;
    await context.stacks.finish(context.stackKeyFor(observed.queue), observed.uuid, {
      exitStatus: -1,
      detail,
    });
    context.metrics?.failedToStart(reason);
    // Then the Job goes: suspended, its pods deleted, kept a while as a tombstone.
    await this.#suspend(job, { reason: `failed: ${reason}` });
    return true;
  }

  async #notify(job: SeenJob, detail: string): Promise<boolean> {
    const { observed } = job;
    const context = this.#context;
    await context.stacks.notify(context.stackKeyFor(observed.queue), [
      { uuid: observed.uuid, detail, at: new Date(context.now()) },
    ]);
    await this.#patch(job, { metadata: { annotations: { [ANNOTATIONS.notified]: "true" } } });
    return true;
  }

  /** Suspends a Job (its pods go); with a reason, marks it a tombstone kept for a while. */
  async #suspend(job: SeenJob, stopped?: { reason: string }) {
    const annotations = stopped
      ? {
          [ANNOTATIONS.stopped]: stopped.reason,
          [ANNOTATIONS.stoppedAt]: new Date(this.#context.now()).toISOString(),
        }
      : undefined;
    await this.#patch(job, {
      ...(annotations ? { metadata: { annotations } } : {}),
      spec: { suspend: true },
    });
  }

  /**
   * A merge patch that applies only to the Job we read: its uid rides along, and a Job
   * deleted and made again under the name since (another uid) refuses it. Not its
   * resourceVersion: the Job controller updates a Job's status all the time, and a
   * conflict on each of those would only delay the patch to the next pass.
   */
  async #patch(job: SeenJob, patch: { metadata?: object; spec?: object }) {
    const metadata = { ...(patch.metadata ?? {}), ...(job.uid ? { uid: job.uid } : {}) };
    await this.#context.api.patch(
      job.path,
      { ...patch, metadata },
      { timeoutMs: this.#context.kubeTimeoutMs },
    );
  }
}
