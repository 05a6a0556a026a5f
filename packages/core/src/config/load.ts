import type { Issue } from "../errors.js";
import { defaultOf, type Scope, type Setting } from "./table.js";

/** Where settings are read from, in rising precedence: defaults, config file, environment, flags. */
export interface SettingSources {
  /** The entry point: only its settings are read, with its defaults. */
  readonly scope: Scope;
  /** A config file's parsed content (YAML or JSON), and its name for errors. */
  readonly config?: { readonly name: string; readonly content: unknown };
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Flag values by setting key: text, a list of texts (repeated flag), or `true` (switch). */
  readonly flags?: Readonly<Record<string, string | readonly string[] | boolean | undefined>>;
}

/** The settings of one entry point, each with where its value came from. */
export interface LoadedSettings {
  /** The value of `declaration`: set, or its default, or undefined. */
  get<T>(declaration: Setting<T>): T | undefined;
  /** Where a key's value came from: `--namespace`, `ONDEMAND_EKS_NAMESPACE`, `config ci.yaml: namespace`. */
  origin(key: string): string | undefined;
}

/** What loading found: the values, and every problem at once (each naming its source). */
export interface LoadResult {
  readonly settings: LoadedSettings;
  readonly issues: readonly Issue[];
}

/** A value for an error message: quoted, and cut short so a pasted blob stays readable. */
function shown(raw: string): string {
  return JSON.stringify(raw.length > 60 ? `${raw.slice(0, 57)}...` : raw);
}

function isTree(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads the settings of `sources.scope` from every source. Never throws: a value that
 * does not parse is an issue whose path names its source (the flag, the variable, or the
 * config file and key), and the setting keeps the value of the source below it.
 *
 * @example
 * ```ts
 * const { settings, issues } = loadSettings(TABLE, { scope: "lambda", env: process.env });
 * if (issues.length > 0) throw new InvalidSettingsError(issues);
 * settings.get(NAMESPACE); // "buildkite"
 * ```
 */
export function loadSettings(table: readonly Setting[], sources: SettingSources): LoadResult {
  const values = new Map<string, unknown>();
  const origins = new Map<string, string>();
  const issues: Issue[] = [];
  /** Keys given a value that did not parse: reported as such, not as missing too. */
  const given = new Set<string>();
  const inScope = table.filter((declaration) => declaration.scopes.includes(sources.scope));

  const take = (declaration: Setting, raw: string, where: string) => {
    const parsed = declaration.parse(raw);
    if ("value" in parsed) {
      values.set(declaration.key, parsed.value);
      origins.set(declaration.key, where);
      return;
    }
    given.add(declaration.key);
    const received = declaration.secret ? "" : `, received ${shown(raw)}`;
    issues.push({ path: where, message: `expected ${parsed.expected}${received}` });
  };

  if (sources.config) readConfig(table, inScope, sources.config, take, issues);

  for (const declaration of inScope) {
    const variable = declaration.env.find((name) => (sources.env?.[name]?.trim() ?? "") !== "");
    if (variable !== undefined) take(declaration, sources.env?.[variable] as string, variable);

    const flag = sources.flags?.[declaration.key];
    if (flag === undefined || flag === false || !declaration.flag) continue;
    const raw = flag === true ? "true" : typeof flag === "string" ? flag : flag.join(",");
    take(declaration, raw, declaration.flag);
  }

  for (const declaration of inScope) {
    const missing =
      !values.has(declaration.key) &&
      !given.has(declaration.key) &&
      defaultOf(declaration, sources.scope) === undefined;
    if (missing && declaration.requiredIn?.includes(sources.scope)) {
      // Said the way this entry point would set it: the Lambda by variable, the rest by
      // flag, with the variables that would do too.
      const byFlag = sources.scope !== "lambda" && declaration.flag !== undefined;
      const or =
        byFlag && declaration.env.length > 0 ? ` (or set ${declaration.env.join(" or ")})` : "";
      issues.push({
        path: (byFlag ? declaration.flag : declaration.env[0]) ?? declaration.key,
        message: `required: ${declaration.description}${or}`,
      });
    }
  }

  const byKey = new Map(inScope.map((declaration) => [declaration.key, declaration]));
  return {
    issues,
    settings: {
      get<T>(declaration: Setting<T>): T | undefined {
        if (!byKey.has(declaration.key)) return undefined;
        if (values.has(declaration.key)) return values.get(declaration.key) as T;
        return defaultOf(declaration, sources.scope);
      },
      origin: (key) => origins.get(key),
    },
  };
}

/** Walks a config file's mapping, taking the values of the settings in scope. */
function readConfig(
  table: readonly Setting[],
  inScope: readonly Setting[],
  config: NonNullable<SettingSources["config"]>,
  take: (declaration: Setting, raw: string, where: string) => void,
  issues: Issue[],
): void {
  const fileKeys = table.filter((declaration) => declaration.inConfigFile !== false);
  const where = (key: string) => `config ${config.name}: ${key}`;
  if (config.content === null || config.content === undefined) return;
  if (!isTree(config.content)) {
    issues.push({ path: `config ${config.name}`, message: "expected a mapping of settings" });
    return;
  }
  const walk = (tree: Record<string, unknown>, prefix: string) => {
    for (const [name, value] of Object.entries(tree)) {
      const key = prefix ? `${prefix}.${name}` : name;
      const declaration = fileKeys.find((candidate) => candidate.key === key);
      if (!declaration) {
        if (isTree(value) && fileKeys.some((candidate) => candidate.key.startsWith(`${key}.`))) {
          walk(value, key);
        } else {
          issues.push({ path: where(key), message: "not a setting a config file may hold" });
        }
        continue;
      }
      if (!inScope.includes(declaration) || value === null || value === undefined) continue;
      if (Array.isArray(value) && declaration.repeatable && value.every(isText)) {
        take(declaration, value.map(String).join(","), where(key));
      } else if (isText(value)) {
        take(declaration, String(value), where(key));
      } else {
        const what = declaration.repeatable ? "a value or a list of values" : "a single value";
        issues.push({ path: where(key), message: `expected ${what}` });
      }
    }
  };
  walk(config.content, "");
}

function isText(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}
