/**
 * Buildkite "job scheduled" events in every form `parseEvent` accepts, with hostile
 * text in every field a Buildkite user controls, and what parsing them must give.
 */
import * as fc from "fast-check";
import type { ParseEventOptions } from "../events/parse-event.js";
import type { EventForm } from "../events/types.js";
import { type AgentQueryRulesOptions, agentQueryRules } from "./rules.js";
import { COMMAND_MARK, hostileText } from "./text.js";

/** Every form {@link scheduledEvent} makes. */
const FORMS: readonly EventForm[] = ["eventbridge", "eventbridge-detail", "webhook", "stacks"];

/** Options of {@link scheduledEvent}. */
export interface ScheduledEventOptions extends AgentQueryRulesOptions {
  /** The forms to make; all four by default. */
  readonly forms?: readonly EventForm[];
}

/** One generated event: the input a transport would hand over, and what it says. */
export interface GeneratedEvent {
  readonly form: EventForm;
  /** The event as it arrives: pass it to `parseEvent(input, options)`. */
  readonly input: Record<string, unknown>;
  /** What the caller knows besides the input: `{}`, or the form and organization of a Stacks API job. */
  readonly options: ParseEventOptions;
  /** The job's UUID, lower case (the input may spell it in upper case). */
  readonly uuid: string;
  /** The queue its rules target, one of the `queues` option's. */
  readonly queue: string;
  /** The pod definition its rules name, or `undefined`. */
  readonly podDefinition: string | undefined;
  /** The job's command, marked with {@link COMMAND_MARK}: it must appear in no manifest. */
  readonly command: string;
}

/** A UUID as Buildkite might spell it: any case. */
const uuid = fc
  .tuple(fc.uuid(), fc.boolean())
  .map(([value, upper]) => (upper ? value.toUpperCase() : value));

/** Each field of an event, before it is put in one form's shape. */
function fields(options: ScheduledEventOptions) {
  const text = hostileText({ maxLength: 120, mark: options.mark });
  const nullable = fc.option(text, { nil: null });
  return fc.record({
    form: fc.constantFrom(...(options.forms ?? FORMS)),
    uuid,
    routing: agentQueryRules(options),
    command: fc.string({ maxLength: 80, unit: "binary" }).map((s) => `${COMMAND_MARK}${s}`),
    label: nullable,
    stepKey: nullable,
    priority: fc.option(fc.integer({ min: -100, max: 100 }), { nil: null }),
    runnableAt: fc.option(
      fc
        .date({
          min: new Date("2020-01-01T00:00:00Z"),
          max: new Date("2030-01-01T00:00:00Z"),
          noInvalidDate: true,
        })
        .map((d) => d.toISOString()),
      { nil: null },
    ),
    buildUuid: fc.option(fc.uuid(), { nil: null }),
    buildNumber: fc.nat(),
    branch: nullable,
    commit: nullable,
    message: nullable,
    buildUrl: nullable,
    pipeline: text,
    pipelineUuid: fc.option(fc.uuid(), { nil: null }),
    repository: nullable,
    organization: fc.option(text, { nil: null }),
    organizationUuid: fc.option(fc.uuid(), { nil: null }),
  });
}

type Fields = typeof fields extends (o: never) => fc.Arbitrary<infer T> ? T : never;

/** `2026-11-28 10:01:14 UTC`: how EventBridge details write times. */
const eventBridgeTime = (iso: string | null) =>
  iso === null ? null : `${iso.slice(0, 19).replace("T", " ")} UTC`;

function detailOf(f: Fields): Record<string, unknown> {
  return {
    version: 1,
    job: {
      uuid: f.uuid,
      type: "script",
      label: f.label,
      step_key: f.stepKey,
      command: f.command,
      agent_query_rules: f.routing.rules,
      state: "scheduled",
      priority: f.priority,
      runnable_at: eventBridgeTime(f.runnableAt),
      started_at: null,
      finished_at: null,
    },
    build: {
      uuid: f.buildUuid,
      number: f.buildNumber,
      branch: f.branch,
      commit: f.commit,
      message: f.message,
      web_url: f.buildUrl,
      state: "started",
      source: "webhook",
    },
    pipeline: { uuid: f.pipelineUuid, slug: f.pipeline, repo: f.repository },
    organization:
      f.organization === null ? null : { uuid: f.organizationUuid, slug: f.organization },
  };
}

function inputOf(f: Fields): Record<string, unknown> {
  switch (f.form) {
    case "eventbridge":
      return {
        version: "0",
        id: f.buildUuid ?? "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Job Scheduled",
        source: "aws.partner/buildkite.com/acme/0190a3bf-aaaa-4bbb-8ccc-dddddddddddd",
        account: "123456789012",
        time: "2026-11-28T10:01:14Z",
        region: "us-east-1",
        resources: [],
        detail: detailOf(f),
      };
    case "eventbridge-detail":
      return detailOf(f);
    case "webhook":
      return {
        event: "job.scheduled",
        job: {
          id: f.uuid,
          type: "script",
          name: f.label,
          step_key: f.stepKey,
          command: f.command,
          agent_query_rules: f.routing.rules,
          state: "scheduled",
          priority: f.priority === null ? null : { number: f.priority },
          scheduled_at: f.runnableAt,
          runnable_at: f.runnableAt,
        },
        build: {
          id: f.buildUuid,
          number: f.buildNumber,
          branch: f.branch,
          commit: f.commit,
          message: f.message,
          web_url: f.buildUrl,
        },
        pipeline: { id: f.pipelineUuid, slug: f.pipeline, repository: f.repository },
        sender: { id: "0190a3be-0000-4000-8000-000000000001", name: f.label },
      };
    case "stacks":
      return {
        id: f.uuid,
        priority: f.priority,
        agent_query_rules: f.routing.rules,
        scheduled_at: f.runnableAt,
        command: f.command,
        pipeline: { slug: f.pipeline, uuid: f.pipelineUuid },
        build: { uuid: f.buildUuid, number: f.buildNumber, branch: f.branch },
        step: { key: f.stepKey },
      };
  }
}

/**
 * A "job scheduled" event in any form `parseEvent` accepts (an EventBridge event, its
 * `detail`, a webhook body, a Stacks API job), for a script job whose rules target one
 * of `queues`. Every field a Buildkite user writes holds {@link hostileText}: the label,
 * step key, branch, commit, message, build URL, pipeline and organization slugs,
 * repository, and the values of rules other than `queue=` and `pod=`. The job's command
 * is marked with {@link COMMAND_MARK}.
 *
 * @example
 * ```ts
 * fc.assert(
 *   fc.property(scheduledEvent({ queues: ["default"] }), (event) => {
 *     const parsed = parseEvent(event.input, event.options);
 *     expect(parsed).toMatchObject({ kind: "scheduled", job: { uuid: event.uuid } });
 *   }),
 * );
 * ```
 */
export function scheduledEvent(options: ScheduledEventOptions = {}): fc.Arbitrary<GeneratedEvent> {
  return fields(options).map((f) => ({
    form: f.form,
    input: inputOf(f),
    options:
      f.form === "stacks"
        ? {
            form: "stacks",
            organization: {
              ...(f.organization === null ? {} : { slug: f.organization }),
              ...(f.organizationUuid === null ? {} : { uuid: f.organizationUuid }),
            },
          }
        : {},
    uuid: f.uuid.toLowerCase(),
    queue: f.routing.queue,
    podDefinition: f.routing.podDefinition,
    command: f.command,
  }));
}
