import { InvalidSettingsError, type Issue } from "./errors.js";
import {
  resolveSettings,
  type SchedulerSettings,
  type SchedulerSettingsInput,
} from "./settings.js";

/** One setting and the environment variable that sets it. */
export interface SettingVariable {
  /** Where the value goes in {@link SchedulerSettingsInput}, e.g. `["agentTokenSecret", "key"]`. */
  readonly path: readonly string[];
  readonly env: string;
  /** Turns the variable's text into the setting's type; values it cannot convert pass through for the schema to report. */
  readonly parse?: (raw: string) => unknown;
}

const wholeNumber = (raw: string): unknown =>
  /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
const list = (raw: string): unknown =>
  raw
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/** Every scheduler setting's environment variable: one table for the CLI and the Lambda. */
export const SETTING_VARIABLES: readonly SettingVariable[] = [
  { path: ["namespace"], env: "ONDEMAND_EKS_NAMESPACE" },
  { path: ["agentTokenSecret", "name"], env: "ONDEMAND_EKS_AGENT_TOKEN_SECRET" },
  { path: ["agentTokenSecret", "key"], env: "ONDEMAND_EKS_AGENT_TOKEN_SECRET_KEY" },
  {
    path: ["ttlSecondsAfterFinished"],
    env: "ONDEMAND_EKS_TTL_SECONDS_AFTER_FINISHED",
    parse: wholeNumber,
  },
  {
    path: ["activeDeadlineSeconds"],
    env: "ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS",
    parse: wholeNumber,
  },
  { path: ["queues"], env: "ONDEMAND_EKS_QUEUES", parse: list },
  { path: ["defaultPodDefinition"], env: "ONDEMAND_EKS_DEFAULT_POD" },
];

type Tree = Record<string, unknown>;

/** Sets `value` at `path` in `tree`, copying the objects on the way. */
export function setSettingAt(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    node[key] =
      typeof next === "object" && next !== null && !Array.isArray(next) ? { ...next } : {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1] as string] = value;
}

/**
 * Settings from environment variables (unset and empty ones keep their defaults). Throws
 * {@link InvalidSettingsError} whose issues name the variable, e.g.
 * `ONDEMAND_EKS_QUEUES: expected a queue name without spaces, commas or =`.
 */
export function settingsFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): SchedulerSettings {
  const input: Tree = {};
  const issues: Issue[] = [];
  for (const variable of SETTING_VARIABLES) {
    const raw = env[variable.env];
    if (raw === undefined || raw === "") continue;
    const parsed = variable.parse ? variable.parse(raw) : raw;
    if (variable.parse === wholeNumber && typeof parsed !== "number") {
      // Said here: the schema could only say "expected number, received string".
      issues.push({
        path: variable.env,
        message: `expected a whole number of seconds, received ${JSON.stringify(raw)}`,
      });
      continue;
    }
    setSettingAt(input, variable.path, parsed);
  }
  try {
    const settings = resolveSettings(input as SchedulerSettingsInput);
    if (issues.length === 0) return settings;
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    for (const issue of error.issues) {
      const variable = SETTING_VARIABLES.find(
        (v) => issue.path === v.path.join(".") || issue.path.startsWith(`${v.path.join(".")}[`),
      );
      issues.push(variable ? { ...issue, path: variable.env } : issue);
    }
  }
  throw new InvalidSettingsError(issues);
}
