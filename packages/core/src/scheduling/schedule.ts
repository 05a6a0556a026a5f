import { isOndemandEksError } from "../errors.js";
import { type ParseEventOptions, parseEvent } from "../events/parse-event.js";
import type { ParsedEvent } from "../events/types.js";
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
  /** Milliseconds, for the duration. Default Date.now. */
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
    return { outcome: "invalid", reason: reasonOf(error), durationMs: elapsed() };
  }
  const job = event.kind === "ignored" ? undefined : event.job.uuid;
  const withJob = job === undefined ? {} : { job };

  let rendered: ReturnType<typeof renderParsedEvent>;
  try {
    rendered = renderParsedEvent(event, dependencies);
  } catch (error) {
    if (isOndemandEksError(error)) {
      return { outcome: "invalid", reason: reasonOf(error), ...withJob, durationMs: elapsed() };
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
  // The job chose its definition (pod=<name>): untrusted input, checked against the
  // definition's own access rules before anything reaches the API server.
  const access = checkAccess(rendered.definition, { job: rendered.job, queue: rendered.queue });
  if (!access.allowed) {
    return { outcome: "invalid", reason: access.reason, ...withJob, durationMs: elapsed() };
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

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, "; ");
}
