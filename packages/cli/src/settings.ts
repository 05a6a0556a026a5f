import {
  DEFAULT_SETTINGS,
  InvalidSettingsError,
  resolveSettings,
  type SchedulerSettings,
  SETTING_VARIABLES,
  type SettingVariable,
  setSettingAt,
} from "@ondemand-eks/core";
import { parse as parseYaml } from "yaml";
import { CliError } from "./errors.js";
import type { CliIo } from "./io.js";

/** Settings flags as commander hands them over (all optional strings). */
export interface SettingsFlags {
  readonly config?: string;
  readonly namespace?: string;
  readonly agentTokenSecret?: string;
  readonly agentTokenSecretKey?: string;
  readonly ttlSecondsAfterFinished?: string;
  readonly activeDeadlineSeconds?: string;
  readonly queue?: string[];
  readonly defaultPod?: string;
  readonly library?: string;
}

/** One setting: where it lives in {@link SchedulerSettings}, its variable, and its flag. */
interface SettingSource extends SettingVariable {
  readonly flag: keyof SettingsFlags;
  readonly option: string;
}

/** The flag of each setting, by the environment variable the core's table gives it. */
const FLAGS: Record<string, Pick<SettingSource, "flag" | "option">> = {
  ONDEMAND_EKS_NAMESPACE: { flag: "namespace", option: "--namespace" },
  ONDEMAND_EKS_AGENT_TOKEN_SECRET: { flag: "agentTokenSecret", option: "--agent-token-secret" },
  ONDEMAND_EKS_AGENT_TOKEN_SECRET_KEY: {
    flag: "agentTokenSecretKey",
    option: "--agent-token-secret-key",
  },
  ONDEMAND_EKS_TTL_SECONDS_AFTER_FINISHED: {
    flag: "ttlSecondsAfterFinished",
    option: "--ttl-seconds-after-finished",
  },
  ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS: {
    flag: "activeDeadlineSeconds",
    option: "--active-deadline-seconds",
  },
  ONDEMAND_EKS_QUEUES: { flag: "queue", option: "--queue" },
  ONDEMAND_EKS_DEFAULT_POD: { flag: "defaultPod", option: "--default-pod" },
};

/** Every setting, its flag and its environment variable: the single source for --help too. */
export const SETTING_SOURCES: readonly SettingSource[] = SETTING_VARIABLES.map((variable) => {
  const flag = FLAGS[variable.env];
  if (!flag) throw new Error(`no flag for ${variable.env}`);
  return { ...variable, ...flag };
});

export const CONFIG_ENV = "ONDEMAND_EKS_CONFIG";
/** Largest config file we read: settings fit in a few lines. */
const MAX_CONFIG_BYTES = 64 * 1024;
export const LIBRARY_ENV = "ONDEMAND_EKS_LIBRARY";

/** Settings plus the library directory. */
export interface CliSettings {
  readonly settings: SchedulerSettings;
  /** Library directory, when a flag, variable or config file set one. */
  readonly library: string | undefined;
}

type Tree = Record<string, unknown>;

async function readConfig(path: string, io: CliIo): Promise<Tree> {
  let text: string;
  try {
    text = await io.readFile(path, MAX_CONFIG_BYTES);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`config ${path}: cannot read it (${code ?? String(error)})`);
  }
  let content: unknown;
  try {
    content = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    const first = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    throw new CliError(`config ${path}: not valid YAML or JSON: ${first}`);
  }
  if (content === null || content === undefined) return {};
  if (typeof content !== "object" || Array.isArray(content)) {
    throw new CliError(`config ${path}: expected a mapping of settings`);
  }
  return content as Tree;
}

/**
 * Settings from, in rising precedence: defaults, the config file (`--config` or
 * ONDEMAND_EKS_CONFIG), environment variables, flags. An invalid value is reported with
 * the flag, variable or file it came from.
 */
export async function loadCliSettings(flags: SettingsFlags, io: CliIo): Promise<CliSettings> {
  const configPath = flags.config ?? io.env[CONFIG_ENV] ?? undefined;
  const tree: Tree = configPath ? await readConfig(configPath, io) : {};
  const origin = new Map<string, string>();
  for (const key of Object.keys(tree)) origin.set(key, `config ${configPath}`);

  let library = typeof tree.library === "string" ? tree.library : undefined;
  delete tree.library;

  for (const source of SETTING_SOURCES) {
    const fromEnv = io.env[source.env];
    const fromFlag = flags[source.flag];
    const key = source.path.join(".");
    if (fromEnv !== undefined && fromEnv !== "") {
      setSettingAt(tree, source.path, source.parse ? source.parse(fromEnv) : fromEnv);
      origin.set(key, source.env);
    }
    if (fromFlag !== undefined) {
      const raw = Array.isArray(fromFlag) ? fromFlag.join(",") : fromFlag;
      setSettingAt(tree, source.path, source.parse ? source.parse(raw) : raw);
      origin.set(key, source.option);
    }
  }
  const libraryEnv = io.env[LIBRARY_ENV];
  if (libraryEnv) library = libraryEnv;
  if (flags.library !== undefined) library = flags.library;

  try {
    return { settings: resolveSettings(tree as never), library };
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    const [issue] = error.issues;
    const path = issue?.path ?? "";
    // An issue without a path (an unknown key) can only come from the config file.
    const from = path
      ? (origin.get(path) ?? origin.get(path.split(/[.[]/)[0] ?? ""))
      : `config ${configPath}`;
    const where = from ? ` (from ${from})` : "";
    throw new CliError(
      `invalid setting${path ? ` ${path}` : "s"}${where}: ${issue?.message ?? error.message}`,
    );
  }
}

/** The defaults, for --help. */
export function describeDefault(path: readonly string[]): string {
  let node: unknown = DEFAULT_SETTINGS;
  for (const key of path) node = (node as Tree)[key];
  return Array.isArray(node) ? node.join(",") : String(node);
}
