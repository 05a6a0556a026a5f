import { z } from "zod";
import { InvalidSettingsError } from "./errors.js";
import { DNS_LABEL, DNS_SUBDOMAIN, POD_DEFINITION_NAME, POD_DEFINITION_NAME_MAX } from "./names.js";
import { fromZodIssues, zodErrorMap } from "./zod-issues.js";

/** Defaults, shared by the schema and by every `--help` that documents them. */
export const DEFAULT_SETTINGS = {
  namespace: "buildkite",
  privilegedNamespace: "buildkite-privileged",
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

/** The agent's own API endpoint, used when {@link SchedulerSettings.agentEndpoint} is unset. */
export const BUILDKITE_AGENT_DEFAULT_ENDPOINT = "https://agent.buildkite.com/v3";

/**
 * An absolute `http://` or `https://` URL: a host (name, IPv4 or bracketed IPv6), an
 * optional port, then an optional path, query or fragment in printable ASCII. No
 * credentials: the value is written in plain text into every agent's environment.
 */
const AGENT_ENDPOINT =
  /^https?:\/\/(?:[A-Za-z0-9][A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?(?:[/?#][!-~]*)?$/i;

/** Whether `value` is an agent API endpoint the scheduler may hand to its agents. */
function isAgentEndpoint(value: string): boolean {
  const match = AGENT_ENDPOINT.exec(value);
  return match !== null && (match[1] === undefined || Number(match[1]) <= 65_535);
}

export const SchedulerSettingsSchema = z.strictObject({
  /** Namespace the Jobs are created in. */
  namespace: z
    .string()
    .max(63)
    .regex(DNS_LABEL, { error: "expected a Kubernetes namespace name (RFC 1123 label)" })
    .default(DEFAULT_SETTINGS.namespace),
  /**
   * Namespace the Jobs of definitions that use privileged features go to: one whose Pod
   * Security level allows them, apart from the other jobs (deploy/kubernetes/base makes it).
   */
  privilegedNamespace: z
    .string()
    .max(63)
    .regex(DNS_LABEL, { error: "expected a Kubernetes namespace name (RFC 1123 label)" })
    .default(DEFAULT_SETTINGS.privilegedNamespace),
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
  /**
   * The agent API endpoint the agents connect to (their `BUILDKITE_AGENT_ENDPOINT`): a
   * proxy, or a local Buildkite emulator. Unset: the agent's own default,
   * {@link BUILDKITE_AGENT_DEFAULT_ENDPOINT}, and no variable is written.
   */
  agentEndpoint: z
    .string()
    .refine(isAgentEndpoint, {
      // Never echoed: a mistyped URL may carry credentials.
      error: `expected an absolute http:// or https:// URL without credentials, like ${BUILDKITE_AGENT_DEFAULT_ENDPOINT}`,
    })
    .optional(),
  /**
   * Most Jobs of one queue running at once. Set (or {@link maxInFlightTotal} set), Jobs
   * are created suspended and the controller resumes them within the caps. Unset: no cap.
   */
  maxInFlight: z.int().min(1).max(INT32_MAX).optional(),
  /** Most Jobs running at once over every queue served; unset: no cap. */
  maxInFlightTotal: z.int().min(1).max(INT32_MAX).optional(),
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
