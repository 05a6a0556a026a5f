import { z } from "zod";

/**
 * zod schemas for the Buildkite payloads we accept. Field names are Buildkite's own
 * (snake_case); `normalise.ts` turns them into our camelCase types. Unknown fields
 * are dropped, so nothing we do not read (a job's `command`, say) travels further.
 */

/** At most this many agent query rules on one job; real pipelines use a handful. */
const MAX_AGENT_QUERY_RULES = 256;
/** Longest agent query rule we accept, in characters. */
const MAX_RULE_LENGTH = 1024;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A Buildkite UUID, lower-cased (Kubernetes names must be lower case). */
const BuildkiteUuidSchema = z
  .string()
  .regex(UUID_PATTERN, { error: "expected a UUID (8-4-4-4-12 hexadecimal digits)" })
  .transform((value) => value.toLowerCase());

const text = z.string().nullish();
const slug = z.string().min(1, { error: "expected a non-empty slug" }).max(1000);

/** One `key=value` agent query rule; the value may hold `=` and `*`. */
const AgentQueryRuleSchema = z
  .string()
  .max(MAX_RULE_LENGTH, { error: `expected at most ${MAX_RULE_LENGTH} characters` })
  .regex(/^[^=]+=/, { error: 'expected "key=value"' });

/** The list is length-checked before its items, so a huge array fails fast with one issue. */
const AgentQueryRulesSchema = z
  .array(z.unknown(), { error: "expected an array of strings" })
  .max(MAX_AGENT_QUERY_RULES, { error: `expected at most ${MAX_AGENT_QUERY_RULES} rules` })
  .pipe(z.array(AgentQueryRuleSchema))
  .nullish();

/**
 * A job's priority: a bare integer (EventBridge, Stacks) or `{ number }` (the REST job
 * object in webhooks). Any other shape reads as absent instead of rejecting the event:
 * priority only orders admission, it is never worth losing a job over.
 */
const PrioritySchema = z
  .union([z.number().int(), z.object({ number: z.number().int().nullish() })])
  .nullish()
  .catch(null)
  .transform((value) => (typeof value === "object" ? (value?.number ?? undefined) : value));

/**
 * When the job became runnable, as milliseconds: Buildkite writes ISO 8601 in webhooks and
 * the Stacks API, and `2026-11-28 10:01:14 UTC` in EventBridge details. Anything else
 * reads as absent: the time only decides whether to check a late event's job first.
 */
const TimeSchema = z
  .string()
  .nullish()
  .catch(null)
  .transform((value) => {
    if (!value) return undefined;
    const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? UTC$/.test(value)
      ? `${value.slice(0, -4).replace(" ", "T")}Z`
      : value;
    const ms = Date.parse(iso);
    return Number.isFinite(ms) ? ms : undefined;
  });

const jobFields = {
  type: text,
  label: text,
  step_key: text,
  agent_query_rules: AgentQueryRulesSchema,
  state: text,
  started_at: text,
  finished_at: text,
  exit_status: z.number().int().nullish(),
  passed: z.boolean().nullish(),
  web_url: text,
  priority: PrioritySchema,
  runnable_at: TimeSchema,
  scheduled_at: TimeSchema,
};

/** `detail.job` of an EventBridge job event: the job's id is `uuid`. */
export const EventBridgeJobSchema = z.object({ uuid: BuildkiteUuidSchema, ...jobFields });

/** `job` of a webhook body: the REST object, whose id is `id`; `name` is its label. */
export const WebhookJobSchema = z.object({ id: BuildkiteUuidSchema, name: text, ...jobFields });

export const BuildSchema = z.object({
  uuid: text,
  id: text,
  number: z.number().int().nonnegative(),
  branch: text,
  commit: text,
  message: text,
  source: text,
  web_url: text,
});

export const PipelineSchema = z.object({
  uuid: text,
  id: text,
  slug,
  repo: text,
  repository: text,
});

export const OrganizationSchema = z.object({ uuid: text, slug: slug.nullish() });

/** The `detail` of an EventBridge "Job Scheduled" event (also what `InputPath: $.detail` sends). */
export const JobEventDetailSchema = z.object({
  job: EventBridgeJobSchema,
  build: BuildSchema,
  pipeline: PipelineSchema,
  organization: OrganizationSchema.nullish(),
});

/** The `detail` of "Job Finished": only the job matters to us. */
export const JobFinishedDetailSchema = z.object({ job: EventBridgeJobSchema });

/** The EventBridge envelope; `detail` is checked separately, by detail-type. */
export const EventBridgeEnvelopeSchema = z.object({
  version: z.string().optional(),
  id: z.string().optional(),
  "detail-type": z.string(),
  source: z.string(),
  time: z.string().optional(),
  region: z.string().optional(),
  account: z.string().optional(),
  detail: z.unknown(),
});

/** A Buildkite webhook body for `job.scheduled`. */
export const WebhookJobScheduledSchema = z.object({
  event: z.literal("job.scheduled"),
  job: WebhookJobSchema,
  build: BuildSchema,
  pipeline: PipelineSchema,
});

/** A Buildkite webhook body for `job.finished`. */
export const WebhookJobFinishedSchema = z.object({
  event: z.literal("job.finished"),
  job: WebhookJobSchema,
});

/**
 * A job as the Stacks API lists it (`GET stacks/:key/scheduled-jobs`, shapes from the
 * buildkite/stacksapi client): scheduled by definition, with no organization (a stack
 * learns its organization from `GET token`).
 */
export const StacksScheduledJobSchema = z.object({
  id: BuildkiteUuidSchema,
  priority: z.number().int().nullish(),
  agent_query_rules: AgentQueryRulesSchema,
  scheduled_at: TimeSchema,
  pipeline: z.object({ slug, uuid: text }),
  build: z.object({ uuid: text, number: z.number().int().nonnegative(), branch: text }),
  step: z.object({ key: text }).nullish(),
});

/** Just enough of a webhook body to read its event name. */
export const WebhookEnvelopeSchema = z.object({ event: z.string() });
