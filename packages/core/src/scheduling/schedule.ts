import { OndemandEksError } from "../errors.js";
import { type ParseEventOptions, parseEvent } from "../events/parse-event.js";
import type { ParsedEvent } from "../events/types.js";
import type { JobManifest } from "../manifest/kubernetes.js";
import type { SchedulerSettings } from "../settings.js";
import { type PodDefinitionLookup, renderParsedEvent } from "./render-event.js";

/**
 * What a submitter reports (structurally @ondemand-eks/submitter's SubmitOutcome; the
 * core depends on no I/O package).
 */
export type SubmitResult =
  | { outcome: "created" | "exists"; name: string; namespace: string; attempts: number }
  | { outcome: "rejected"; status: number; reason: string; message: string; attempts: number }
  | { outcome: "unavailable"; message: string; attempts: number };

/** Everything `schedule` does I/O through, injected. */
export interface ScheduleDependencies extends ParseEventOptions {
  readonly settings: SchedulerSettings;
  readonly lookup: PodDefinitionLookup;
  /** Creates the Job (idempotently); should not throw, but a throw is taken for `failed`. */
  readonly submit: (manifest: JobManifest) => Promise<SubmitResult>;
  /** Milliseconds, for the duration. Default Date.now. */
  readonly now?: () => number;
  /** Called once per event with its outcome: a structured log line. */
  readonly log?: (outcome: ScheduleOutcome) => void;
}

interface Common {
  /** The Buildkite job UUID, once the event was read far enough to know it. */
  readonly job?: string;
  readonly durationMs: number;
}

/**
 * The one answer for one event. Adapters only map these to their transport:
 * - `created`, `exists`: the Job exists; acknowledge the event.
 * - `ignored`: not for this scheduler (another event type, queue, a long-polling
 *   definition's own queue); acknowledge it.
 * - `invalid`: a bad event, an unknown pod definition, or a Job the API server refused:
 *   retrying cannot help; report it and dead-letter it.
 * - `failed`: the API server could not be reached in time: retrying may help; do not
 *   acknowledge.
 */
export type ScheduleOutcome =
  | (Common & {
      readonly outcome: "created" | "exists";
      readonly job: string;
      readonly name: string;
      readonly namespace: string;
      readonly queue: string;
      readonly podDefinition: string;
      readonly attempts: number;
    })
  | (Common & { readonly outcome: "ignored"; readonly reason: string })
  | (Common & { readonly outcome: "invalid"; readonly reason: string })
  | (Common & { readonly outcome: "failed"; readonly reason: string; readonly attempts?: number });

/**
 * The scheduling path every entry point shares: parse -> route -> pod definition ->
 * manifest -> submit, with every step's failure sorted into one outcome. Never throws.
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
    if (error instanceof OndemandEksError) {
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

  let result: SubmitResult;
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
    case "exists":
      return {
        outcome: result.outcome,
        job: rendered.job.uuid,
        name: result.name,
        namespace: result.namespace,
        queue: rendered.queue,
        podDefinition: rendered.definition.name,
        attempts: result.attempts,
        durationMs: elapsed(),
      };
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
