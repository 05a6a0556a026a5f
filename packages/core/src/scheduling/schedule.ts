import { isOndemandEksError } from "../errors.js";
import { type ParseEventOptions, parseEvent } from "../events/parse-event.js";
import type { ParsedEvent, ScheduledJob } from "../events/types.js";
import type { JobManifest } from "../manifest/kubernetes.js";
import { checkAccess } from "../pod-definition/access.js";
import type { SchedulerSettings } from "../settings.js";
import type { ScheduleOutcome, SubmitOutcome } from "./outcome.js";
import { type PodDefinitionLookup, renderParsedEvent } from "./render-event.js";

/** Everything `schedule` does I/O through, injected. */
export interface ScheduleDependencies extends ParseEventOptions {
  readonly settings: SchedulerSettings;
  readonly lookup: PodDefinitionLookup;
  /**
   * Creates the Job (idempotently), or dry-runs it; should not throw, but a throw is
   * taken for `failed`.
   */
  readonly submit: (manifest: JobManifest) => Promise<SubmitOutcome>;
  /**
   * Buildkite's state of a job (the Stacks API's `get-states`), for an event older than
   * `staleAfterMs`: a late redelivery of a job already over (finished, cancelled) makes no
   * Job. Without it, or when it fails, the Job is made: the controller stops one whose job
   * is over, while a job never started would wait forever.
   */
  readonly jobState?: (uuid: string) => Promise<string | undefined>;
  /** How old (since the job became runnable) an event is before its job's state is checked. Default 60 s. */
  readonly staleAfterMs?: number;
  /** Milliseconds, for the duration and an event's age. Default Date.now. */
  readonly now?: () => number;
  /** Called once per event with its outcome: a structured log line. */
  readonly log?: (outcome: ScheduleOutcome) => void;
}

/**
 * The scheduling path every entry point shares: parse -> route -> pod definition ->
 * manifest -> access -> submit, with every step's failure sorted into one outcome. A
 * job that picks a definition its access rules do not allow is `invalid`, with the rule
 * and how to get access. Never throws.
 */
export async function schedule(
  input: unknown,
  dependencies: ScheduleDependencies,
): Promise<ScheduleOutcome> {
  const now = dependencies.now ?? Date.now;
  const started = now();
  const outcome = await decide(input, dependencies, () => now() - started);
  try {
    dependencies.log?.(outcome);
  } catch {
    // A failing logger must not turn a scheduled job into an error.
  }
  return outcome;
}

async function decide(
  input: unknown,
  dependencies: ScheduleDependencies,
  elapsed: () => number,
): Promise<ScheduleOutcome> {
  let event: ParsedEvent;
  try {
    event = parseEvent(input, dependencies);
  } catch (error) {
    return {
      outcome: "invalid",
      reason: reasonOf(error),
      refusedBy: "event",
      durationMs: elapsed(),
    };
  }
  const job = event.kind === "ignored" ? undefined : event.job.uuid;
  const withJob = job === undefined ? {} : { job };

  let rendered: ReturnType<typeof renderParsedEvent>;
  try {
    rendered = renderParsedEvent(event, dependencies);
  } catch (error) {
    if (isOndemandEksError(error)) {
      return {
        outcome: "invalid",
        reason: reasonOf(error),
        refusedBy: "job",
        ...withJob,
        durationMs: elapsed(),
      };
    }
    return {
      outcome: "failed",
      reason: `unexpected: ${reasonOf(error)}`,
      ...withJob,
      durationMs: elapsed(),
    };
  }
  if (rendered.kind === "ignored") {
    return { outcome: "ignored", reason: rendered.reason, ...withJob, durationMs: elapsed() };
  }
  const over = await overInBuildkite(rendered.job, dependencies);
  if (over) {
    return {
      outcome: "ignored",
      reason: `the job is already ${over} in Buildkite: this event came late (a redelivery), so no Job is made`,
      ...withJob,
      durationMs: elapsed(),
    };
  }
  // The job chose its definition (pod=<name>): untrusted input, checked against the
  // definition's own access rules before anything reaches the API server.
  const access = checkAccess(rendered.definition, { job: rendered.job, queue: rendered.queue });
  if (!access.allowed) {
    return {
      outcome: "invalid",
      reason: access.reason,
      refusedBy: "access",
      ...withJob,
      durationMs: elapsed(),
    };
  }

  let result: SubmitOutcome;
  try {
    result = await dependencies.submit(rendered.manifest);
  } catch (error) {
    return {
      outcome: "failed",
      reason: `submitting failed: ${reasonOf(error)}`,
      job: rendered.job.uuid,
      durationMs: elapsed(),
    };
  }
  switch (result.outcome) {
    case "created":
    case "exists": {
      const placed = {
        job: rendered.job.uuid,
        name: result.name,
        namespace: result.namespace,
        queue: rendered.queue,
        podDefinition: rendered.definition.name,
        attempts: result.attempts,
        durationMs: elapsed(),
      };
      return result.dryRun
        ? { outcome: "dry-run", result: result.outcome, ...placed }
        : { outcome: result.outcome, ...placed };
    }
    case "rejected":
      return {
        outcome: "invalid",
        refusedBy: "cluster",
        reason: `the API server refused the Job: ${result.status} ${result.reason}: ${result.message}`,
        job: rendered.job.uuid,
        durationMs: elapsed(),
      };
    case "unavailable":
      return {
        outcome: "failed",
        reason: `the API server could not be reached: ${result.message}`,
        job: rendered.job.uuid,
        attempts: result.attempts,
        durationMs: elapsed(),
      };
  }
}

/** Buildkite's states in which a job will never need an agent again. */
const OVER = new Set([
  "finished",
  "canceled",
  "canceling",
  "expired",
  "timed_out",
  "timing_out",
  "skipped",
  "broken",
]);

/**
 * The state of a late event's job when it is over, else undefined. Only an event older
 * than the threshold is checked (one call to Buildkite), and only when a reader is given;
 * a failed read counts as not over.
 */
async function overInBuildkite(
  job: ScheduledJob,
  dependencies: ScheduleDependencies,
): Promise<string | undefined> {
  const { jobState } = dependencies;
  if (!jobState || job.form === "stacks" || job.runnableAt === undefined) return undefined;
  const now = (dependencies.now ?? Date.now)();
  if (now - job.runnableAt < (dependencies.staleAfterMs ?? 60_000)) return undefined;
  try {
    const state = await jobState(job.uuid);
    return state !== undefined && OVER.has(state) ? state : undefined;
  } catch {
    return undefined;
  }
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, "; ");
}
