import { z } from "zod";
import { InvalidSettingsError } from "./errors.js";
import { DNS_LABEL, DNS_SUBDOMAIN, POD_DEFINITION_NAME, POD_DEFINITION_NAME_MAX } from "./names.js";
import { fromZodIssues, zodErrorMap } from "./zod-issues.js";

/** Defaults, shared by the schema and by every `--help` that documents them. */
export const DEFAULT_SETTINGS = {
  namespace: "buildkite",
  agentTokenSecret: { name: "buildkite-agent-token", key: "token" },
  ttlSecondsAfterFinished: 600,
  activeDeadlineSeconds: 21_600,
  queues: ["default"],
  defaultPodDefinition: "default",
} as const;

/** ttlSecondsAfterFinished is an int32 in the Job API. */
const INT32_MAX = 2_147_483_647;

/** A queue we may put in an agent's tags: no separators, no whitespace. */
const QUEUE = /^[^\s,=]+$/;

export const SchedulerSettingsSchema = z.strictObject({
  /** Namespace the Jobs are created in. */
  namespace: z
    .string()
    .max(63)
    .regex(DNS_LABEL, { error: "expected a Kubernetes namespace name (RFC 1123 label)" })
    .default(DEFAULT_SETTINGS.namespace),
  /** The Secret holding the agent token. Only a reference: a literal token has no field. */
  agentTokenSecret: z
    .strictObject({
      name: z
        .string()
        .max(253)
        .regex(DNS_SUBDOMAIN, { error: "expected a Kubernetes Secret name (RFC 1123 subdomain)" })
        .default(DEFAULT_SETTINGS.agentTokenSecret.name),
      key: z
        .string()
        .max(253)
        .regex(/^[-._a-zA-Z0-9]+$/, {
          error: 'expected a Secret key (letters, digits, "-", "_", ".")',
        })
        .default(DEFAULT_SETTINGS.agentTokenSecret.key),
    })
    .default({ ...DEFAULT_SETTINGS.agentTokenSecret }),
  /** Seconds a finished Job (and its pod) is kept before Kubernetes deletes it. */
  ttlSecondsAfterFinished: z
    .int()
    .min(0)
    .max(INT32_MAX, { error: `expected at most ${INT32_MAX} (the Kubernetes field is 32-bit)` })
    .default(DEFAULT_SETTINGS.ttlSecondsAfterFinished),
  /** Hard limit on a Job's run time, in seconds. */
  activeDeadlineSeconds: z.int().min(1).default(DEFAULT_SETTINGS.activeDeadlineSeconds),
  /** Queues this scheduler serves; a job for any other queue belongs to another fleet. */
  queues: z
    .array(
      z
        .string()
        .max(100)
        .regex(QUEUE, { error: "expected a queue name without spaces, commas or =" }),
    )
    .min(1, { error: "expected at least one queue" })
    .default([...DEFAULT_SETTINGS.queues]),
  /** Pod definition for jobs that name none. */
  defaultPodDefinition: z
    .string()
    .max(POD_DEFINITION_NAME_MAX)
    .regex(POD_DEFINITION_NAME, { error: "expected a pod definition name" })
    .default(DEFAULT_SETTINGS.defaultPodDefinition),
});

/** Settings with every default applied. */
export type SchedulerSettings = z.output<typeof SchedulerSettingsSchema>;
/** Settings as a user writes them: every field optional. */
export type SchedulerSettingsInput = z.input<typeof SchedulerSettingsSchema>;

/**
 * Validates settings and fills in defaults; throws {@link InvalidSettingsError} naming
 * every bad field.
 *
 * @example
 * ```ts
 * const settings = resolveSettings({ namespace: "ci", queues: ["default", "build"] });
 * ```
 */
export function resolveSettings(input: SchedulerSettingsInput = {}): SchedulerSettings {
  const result = SchedulerSettingsSchema.safeParse(input, { error: zodErrorMap });
  if (!result.success) throw new InvalidSettingsError(fromZodIssues(result.error.issues));
  return result.data;
}
