import { InvalidSettingsError } from "@ondemand-eks/core";
import { describeDefault, loadSettings, type Scope, type Setting } from "@ondemand-eks/core/config";
import { type EntryPointConfig, type ReadConfigOptions, readConfig } from "@ondemand-eks/runtime";
import { Option } from "commander";
import { parse as parseYaml } from "yaml";
import { ALL_SETTINGS, CLI_SETTINGS } from "./cli-settings.js";
import { UsageError } from "./errors.js";
import type { CliIo } from "./io.js";

/** Largest config file read: settings fit in a few lines. */
const MAX_CONFIG_BYTES = 64 * 1024;

/** Flag values as commander hands them over, by the option's attribute name. */
export type CommandFlags = Readonly<Record<string, unknown>>;

/** Flag values by setting key, as the settings loader takes them. */
type SettingFlags = Record<string, string | string[] | boolean>;

/** The settings of `scope` that have a flag. */
function flagged(scope: Scope): Setting[] {
  return ALL_SETTINGS.filter(
    (declaration) => declaration.flag && declaration.scopes.includes(scope),
  );
}

/** commander's attribute name for a flag: `--agent-token-secret` -> `agentTokenSecret`. */
const attributeOf = (flag: string) =>
  flag.replace(/^--/, "").replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/**
 * The options of every setting of `scope`, for `--help` and parsing, from the settings
 * table: its flag, description, default and environment variables. No commander
 * defaults: a value not given on the command line is left to the environment and the
 * config file.
 */
export function settingOptions(scope: Scope): Option[] {
  return flagged(scope).map((declaration) => {
    // A switch is off unless given: its default says nothing.
    const fallback = declaration.placeholder ? describeDefault(declaration, scope) : undefined;
    const notes = [
      fallback === undefined ? undefined : `default: ${fallback}`,
      declaration.env.length > 0 ? `env ${declaration.env.join(", ")}` : undefined,
    ].filter(Boolean);
    const flag = `${declaration.flag}${declaration.placeholder ? ` ${declaration.placeholder}` : ""}`;
    const option = new Option(
      flag,
      `${declaration.description}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`,
    );
    if (declaration.repeatable) {
      option.argParser((item: string, previous: string[] = []) => [...previous, item]);
    }
    return option;
  });
}

/**
 * Throws a {@link UsageError} naming every flag whose value its setting does not parse
 * (`--timeout abc`): a mistake in the command line, like an unknown flag, where a bad
 * value from the environment or the config file is invalid settings. Checked with the
 * same parsers, and worded the same, as the loader reads every source with.
 */
function checkFlagValues(scope: Scope, flags: SettingFlags): void {
  const given = new Set(
    flagged(scope)
      .filter((declaration) => flags[declaration.key] !== undefined)
      .map((declaration) => declaration.flag),
  );
  // Flags alone: a missing required setting is reported later, with the other sources.
  const { issues } = loadSettings(ALL_SETTINGS, { scope, flags });
  const unparsed = issues.filter((issue) => given.has(issue.path));
  if (unparsed.length > 0) throw new UsageError(unparsed);
}

/** Reads the config file a flag or ONDEMAND_EKS_CONFIG names; problems name the file. */
async function readConfigFile(
  path: string,
  io: CliIo,
): Promise<{ name: string; content: unknown }> {
  const fail = (message: string): never => {
    throw new InvalidSettingsError([{ path: `config ${path}`, message }]);
  };
  let text = "";
  try {
    text = await io.readFile(path, MAX_CONFIG_BYTES);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    fail(`cannot read it (${code ?? message})`);
  }
  try {
    return { name: path, content: parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 }) };
  } catch (error) {
    const first = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    return fail(`not valid YAML or JSON: ${first}`);
  }
}

/**
 * An entry point's configuration from, in rising precedence: defaults, the config file
 * (`--config` or ONDEMAND_EKS_CONFIG), environment variables, flags. Throws a
 * `UsageError` naming each flag whose value does not parse, otherwise
 * `InvalidSettingsError` with every problem, each naming the flag, variable or file
 * (and key) it came from.
 */
export async function loadCliConfig(
  scope: Scope,
  flags: CommandFlags,
  io: CliIo,
  check?: ReadConfigOptions["check"],
): Promise<EntryPointConfig> {
  const byKey: SettingFlags = {};
  for (const declaration of flagged(scope)) {
    const value = flags[attributeOf(declaration.flag as string)];
    if (typeof value === "string" || typeof value === "boolean" || Array.isArray(value)) {
      byKey[declaration.key] = value as string | string[] | boolean;
    }
  }
  checkFlagValues(scope, byKey);
  const configFlag = byKey[CLI_SETTINGS.config.key];
  const configPath =
    typeof configFlag === "string" ? configFlag : io.env[CLI_SETTINGS.config.env[0] as string];
  const config = configPath ? await readConfigFile(configPath, io) : undefined;
  return readConfig({
    scope,
    table: ALL_SETTINGS,
    env: io.env,
    flags: byKey,
    ...(config ? { config } : {}),
    ...(check ? { check } : {}),
  });
}
