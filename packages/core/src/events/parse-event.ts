import type { z } from "zod";
import { InvalidEventError } from "../errors.js";
import { capture, type Result } from "../result.js";
import { fromZodIssues, zodErrorMap } from "../zod-issues.js";
import { toFinishedJob, toScheduledJob } from "./normalise.js";
import {
  EventBridgeEnvelopeSchema,
  JobEventDetailSchema,
  JobFinishedDetailSchema,
  StacksScheduledJobSchema,
  WebhookEnvelopeSchema,
  WebhookJobFinishedSchema,
  WebhookJobScheduledSchema,
} from "./schemas.js";
import type { EventForm, ParsedEvent } from "./types.js";

/** States after which a job will never need an agent again. */
const FINISHED_STATES = new Set([
  "finished",
  "canceled",
  "timed_out",
  "expired",
  "skipped",
  "broken",
]);
/** States of a job an agent already holds. */
const STARTED_STATES = new Set(["accepted", "running", "canceling", "timing_out"]);

export interface ParseEventOptions {
  /**
   * The form the caller knows the input has. Without it the form is detected: an object
   * with `detail-type` is an EventBridge event, one with `event` a webhook body, and one
   * with `job` (or `build` or `agent`, the details of events we ignore) an EventBridge
   * `detail`. A Stacks API job (`stacks`) is never detected: its caller knows it.
   */
  readonly form?: EventForm;
  /** For the `stacks` form: the organization, which the Stacks API's jobs do not carry. */
  readonly organization?: { readonly slug?: string; readonly uuid?: string };
}

function check<S extends z.ZodType>(schema: S, input: unknown, base: string): z.output<S> {
  const result = schema.safeParse(input, { error: zodErrorMap });
  if (!result.success) throw new InvalidEventError(fromZodIssues(result.error.issues, base));
  return result.data;
}

function isObject(input: unknown): input is Record<string, unknown> {
  return typeof input === "object" && input !== null && !Array.isArray(input);
}

function detectForm(input: Record<string, unknown>): EventForm {
  if (Object.hasOwn(input, "detail-type")) return "eventbridge";
  if (Object.hasOwn(input, "event")) return "webhook";
  if (
    Object.hasOwn(input, "job") ||
    Object.hasOwn(input, "build") ||
    Object.hasOwn(input, "agent")
  ) {
    return "eventbridge-detail";
  }
  throw new InvalidEventError([
    {
      path: "",
      message:
        'expected an EventBridge event ("detail-type"), its "detail" ("job"), or a Buildkite webhook body ("event")',
    },
  ]);
}

/** Only command steps ("script" jobs) run on agents; block, wait and trigger steps do not. */
function notAScript(type: string | null | undefined): string | undefined {
  if (type === undefined || type === null || type === "script") return undefined;
  return `job type ${JSON.stringify(type)} does not run on an agent`;
}

function fromEventBridge(input: unknown): ParsedEvent {
  const envelope = check(EventBridgeEnvelopeSchema, input, "");
  const detailType = envelope["detail-type"];
  if (detailType === "Job Scheduled") return fromDetail(envelope.detail, "detail", "eventbridge");
  if (detailType === "Job Finished") {
    const { job } = check(JobFinishedDetailSchema, envelope.detail, "detail");
    return { kind: "finished", job: toFinishedJob(job, "eventbridge") };
  }
  return {
    kind: "ignored",
    reason: `EventBridge detail-type ${JSON.stringify(detailType)} is not one we act on`,
  };
}

function fromDetail(input: unknown, base: string, form: EventForm): ParsedEvent {
  // With InputPath: $.detail, build and agent events arrive as bare details too.
  // Only a real build or agent object says so: `{}` or a misspelt `Job` stays an error.
  if (form === "eventbridge-detail" && isObject(input) && !Object.hasOwn(input, "job")) {
    if (isObject(input.agent) || isObject(input.build)) {
      const what = isObject(input.agent) ? "an agent" : "a build";
      return {
        kind: "ignored",
        reason: `EventBridge detail of ${what} event (no job) is not one we act on`,
      };
    }
  }
  const detail = check(JobEventDetailSchema, input, base);
  const { job } = detail;
  const skip = notAScript(job.type);
  if (skip) return { kind: "ignored", reason: skip };
  const state = job.state ?? undefined;
  // A bare detail carries no detail-type: its job state tells scheduled from finished.
  if (form === "eventbridge-detail") {
    if ((state && FINISHED_STATES.has(state)) || job.finished_at) {
      return { kind: "finished", job: toFinishedJob(job, form) };
    }
    if ((state && STARTED_STATES.has(state)) || job.started_at) {
      return { kind: "ignored", reason: `job is already ${state ?? "started"}` };
    }
  }
  return { kind: "scheduled", job: toScheduledJob(detail, form) };
}

/** A job the Stacks API lists as scheduled: always a script job waiting for an agent. */
function fromStacks(input: unknown, options: ParseEventOptions): ParsedEvent {
  const job = check(StacksScheduledJobSchema, input, "");
  return {
    kind: "scheduled",
    job: toScheduledJob(
      {
        job: {
          id: job.id,
          agent_query_rules: job.agent_query_rules,
          step_key: job.step?.key,
          priority: job.priority ?? undefined,
          runnable_at: undefined,
          scheduled_at: job.scheduled_at,
        },
        build: job.build,
        pipeline: job.pipeline,
        organization: options.organization,
      },
      "stacks",
    ),
  };
}

function fromWebhook(input: unknown): ParsedEvent {
  const { event } = check(WebhookEnvelopeSchema, input, "");
  if (event === "job.scheduled") {
    const body = check(WebhookJobScheduledSchema, input, "");
    const skip = notAScript(body.job.type);
    if (skip) return { kind: "ignored", reason: skip };
    return { kind: "scheduled", job: toScheduledJob(body, "webhook") };
  }
  if (event === "job.finished") {
    const body = check(WebhookJobFinishedSchema, input, "");
    return { kind: "finished", job: toFinishedJob(body.job, "webhook") };
  }
  return { kind: "ignored", reason: `webhook event ${JSON.stringify(event)} is not one we act on` };
}

/**
 * Parses any input a transport hands us (an EventBridge event, its `detail`, or a
 * Buildkite webhook body) into one {@link ParsedEvent}.
 *
 * Events we have no use for come back as `{ kind: "ignored", reason }`; input that claims
 * to be a job event but is malformed throws {@link InvalidEventError}, whose issues name
 * each bad field by its path in the input.
 *
 * @example
 * ```ts
 * const event = parseEvent(JSON.parse(body));
 * if (event.kind === "scheduled") console.log(event.job.uuid);
 * ```
 */
export function parseEvent(input: unknown, options: ParseEventOptions = {}): ParsedEvent {
  if (!isObject(input)) {
    const got = input === null ? "null" : Array.isArray(input) ? "array" : typeof input;
    throw new InvalidEventError([{ path: "", message: `expected a JSON object, received ${got}` }]);
  }
  const form = options.form ?? detectForm(input);
  switch (form) {
    case "eventbridge":
      return fromEventBridge(input);
    case "webhook":
      return fromWebhook(input);
    case "eventbridge-detail":
      return fromDetail(input, "", "eventbridge-detail");
    case "stacks":
      return fromStacks(input, options);
  }
}

/**
 * {@link parseEvent} without the throw: `{ success: true, data }` or
 * `{ success: false, error }` with the {@link InvalidEventError}.
 *
 * @example
 * ```ts
 * const result = safeParseEvent(input);
 * if (!result.success) console.error(result.error.message);
 * ```
 */
export function safeParseEvent(
  input: unknown,
  options: ParseEventOptions = {},
): Result<ParsedEvent, InvalidEventError> {
  return capture(() => parseEvent(input, options), InvalidEventError);
}
