import { InvalidSettingsError, type Issue } from "../errors.js";
import {
  BUILDKITE_AGENT_DEFAULT_ENDPOINT,
  DEFAULT_SETTINGS,
  resolveSettings,
  type SchedulerSettings,
  type SchedulerSettingsInput,
} from "../settings.js";
import type { LoadedSettings } from "./load.js";
import { list, text, wholeNumber } from "./parsers.js";
import { SCOPES, type Scope, type Setting, setting } from "./table.js";

/** Every entry point builds Jobs, so every one takes the scheduler settings. */
const EVERYWHERE: readonly Scope[] = SCOPES;

const INT32_MAX = 2_147_483_647;

/** The settings of the Jobs themselves ({@link SchedulerSettings}), one declaration each. */
export const SCHEDULER_SETTINGS = {
  namespace: setting({
    key: "namespace",
    flag: "--namespace",
    placeholder: "<namespace>",
    env: ["ONDEMAND_EKS_NAMESPACE"],
    description: "namespace the Jobs are created in",
    parse: text,
    default: DEFAULT_SETTINGS.namespace,
    scopes: EVERYWHERE,
  }),
  privilegedNamespace: setting({
    key: "privilegedNamespace",
    flag: "--privileged-namespace",
    placeholder: "<namespace>",
    env: ["ONDEMAND_EKS_PRIVILEGED_NAMESPACE"],
    description: "namespace the Jobs of definitions that use privileged features are created in",
    parse: text,
    default: DEFAULT_SETTINGS.privilegedNamespace,
    scopes: EVERYWHERE,
  }),
  agentTokenSecretName: setting({
    key: "agentTokenSecret.name",
    flag: "--agent-token-secret",
    placeholder: "<name>",
    env: ["ONDEMAND_EKS_AGENT_TOKEN_SECRET"],
    description: "Secret holding the agent token",
    parse: text,
    default: DEFAULT_SETTINGS.agentTokenSecret.name,
    scopes: EVERYWHERE,
  }),
  agentTokenSecretKey: setting({
    key: "agentTokenSecret.key",
    flag: "--agent-token-secret-key",
    placeholder: "<key>",
    env: ["ONDEMAND_EKS_AGENT_TOKEN_SECRET_KEY"],
    description: "key of the agent token in that Secret",
    parse: text,
    default: DEFAULT_SETTINGS.agentTokenSecret.key,
    scopes: EVERYWHERE,
  }),
  agentEndpoint: setting({
    key: "agentEndpoint",
    flag: "--agent-endpoint",
    placeholder: "<url>",
    env: ["ONDEMAND_EKS_AGENT_ENDPOINT"],
    description: "agent API endpoint the agents connect to (the agent's BUILDKITE_AGENT_ENDPOINT)",
    // Checked by the settings schema, which never echoes a value: a URL may carry credentials.
    parse: text,
    defaultText: `the agent's own, ${BUILDKITE_AGENT_DEFAULT_ENDPOINT}`,
    scopes: EVERYWHERE,
  }),
  ttlSecondsAfterFinished: setting({
    key: "ttlSecondsAfterFinished",
    flag: "--ttl-seconds-after-finished",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_TTL_SECONDS_AFTER_FINISHED"],
    description: "seconds a finished Job is kept",
    parse: wholeNumber(0, INT32_MAX, "seconds"),
    default: DEFAULT_SETTINGS.ttlSecondsAfterFinished,
    scopes: EVERYWHERE,
  }),
  activeDeadlineSeconds: setting({
    key: "activeDeadlineSeconds",
    flag: "--active-deadline-seconds",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS"],
    description: "longest a Job may run, in seconds",
    parse: wholeNumber(1, INT32_MAX, "seconds"),
    default: DEFAULT_SETTINGS.activeDeadlineSeconds,
    scopes: EVERYWHERE,
  }),
  queues: setting({
    key: "queues",
    flag: "--queue",
    placeholder: "<queue>",
    env: ["ONDEMAND_EKS_QUEUES"],
    description: "a queue to serve (repeat for more); jobs for other queues are not for us",
    parse: list,
    repeatable: true,
    default: [...DEFAULT_SETTINGS.queues],
    scopes: EVERYWHERE,
  }),
  defaultPodDefinition: setting({
    key: "defaultPodDefinition",
    flag: "--default-pod",
    placeholder: "<definition>",
    env: ["ONDEMAND_EKS_DEFAULT_POD"],
    description: "pod definition for jobs that name none",
    parse: text,
    default: DEFAULT_SETTINGS.defaultPodDefinition,
    scopes: EVERYWHERE,
  }),
  maxInFlight: setting({
    key: "maxInFlight",
    flag: "--max-in-flight",
    placeholder: "<jobs>",
    env: ["ONDEMAND_EKS_MAX_IN_FLIGHT"],
    description:
      "most Jobs of one queue running at once; set, Jobs start suspended and the controller admits them",
    parse: wholeNumber(1, INT32_MAX, "jobs"),
    defaultText: "no cap",
    scopes: EVERYWHERE,
  }),
  maxInFlightTotal: setting({
    key: "maxInFlightTotal",
    flag: "--max-in-flight-total",
    placeholder: "<jobs>",
    env: ["ONDEMAND_EKS_MAX_IN_FLIGHT_TOTAL"],
    description:
      "most Jobs running at once over every queue; set, Jobs start suspended and the controller admits them",
    parse: wholeNumber(1, INT32_MAX, "jobs"),
    defaultText: "no cap",
    scopes: EVERYWHERE,
  }),
} satisfies Record<string, Setting>;

/**
 * The {@link SchedulerSettings} from loaded settings, checked by the settings schema.
 * Throws {@link InvalidSettingsError} with every issue, each naming where its value came
 * from (`--queue: expected a queue name without spaces, commas or =`).
 */
export function schedulerSettingsFrom(loaded: LoadedSettings): SchedulerSettings {
  const s = SCHEDULER_SETTINGS;
  const input: SchedulerSettingsInput = {
    namespace: loaded.get(s.namespace),
    privilegedNamespace: loaded.get(s.privilegedNamespace),
    agentTokenSecret: {
      name: loaded.get(s.agentTokenSecretName),
      key: loaded.get(s.agentTokenSecretKey),
    },
    ttlSecondsAfterFinished: loaded.get(s.ttlSecondsAfterFinished),
    activeDeadlineSeconds: loaded.get(s.activeDeadlineSeconds),
    queues: loaded.get(s.queues),
    defaultPodDefinition: loaded.get(s.defaultPodDefinition),
  };
  const agentEndpoint = loaded.get(s.agentEndpoint);
  if (agentEndpoint !== undefined) input.agentEndpoint = agentEndpoint;
  const maxInFlight = loaded.get(s.maxInFlight);
  if (maxInFlight !== undefined) input.maxInFlight = maxInFlight;
  const maxInFlightTotal = loaded.get(s.maxInFlightTotal);
  if (maxInFlightTotal !== undefined) input.maxInFlightTotal = maxInFlightTotal;
  try {
    return resolveSettings(input);
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    throw new InvalidSettingsError(error.issues.map((issue) => fromOrigin(issue, loaded)));
  }
}

/** An issue of the schema (path `queues[1]`) said with the source of that value. */
function fromOrigin(issue: Issue, loaded: LoadedSettings): Issue {
  const key = issue.path.replace(/\[\d+\]$/, "");
  const origin = loaded.origin(key);
  return origin ? { ...issue, path: origin } : issue;
}
