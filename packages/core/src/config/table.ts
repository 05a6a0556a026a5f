import type { Parser } from "./parsers.js";

/**
 * The entry points a setting applies to: the command's subcommands, the Lambda
 * function (which reads only environment variables), and the lifecycle controller.
 * New scopes go at the end, so the order of existing ones never changes.
 */
export const SCOPES = [
  "render",
  "render-deployment",
  "validate",
  "schedule",
  "serve-http",
  "consume-sqs",
  "lambda",
  "controller",
  "reconcile-deployments",
] as const;

/** An entry point a setting applies to. */
export type Scope = (typeof SCOPES)[number];

/**
 * One setting, declared once: every way to set it, what it means, and how its text is
 * read. Flags, `--help`, environment and config-file loading, the Lambda's variables and
 * the README's table are all derived from these declarations.
 */
export interface Setting<T = unknown> {
  /** Its key in a config file and in the loaded values, dotted: `agentTokenSecret.name`. */
  readonly key: string;
  /** Its flag, `--namespace`; none for settings only an environment should hold (secrets). */
  readonly flag?: string;
  /** What the flag's value is called in `--help`: `<name>`. Absent for a switch (a flag without a value). */
  readonly placeholder?: string;
  /** Its environment variables, the first set one wins: `ONDEMAND_EKS_NAMESPACE`. */
  readonly env: readonly string[];
  /** Whether a config file may set it. Default true; false for secrets and for `--config`. */
  readonly inConfigFile?: boolean;
  /** One line for `--help` and the README, lower case, no final period. */
  readonly description: string;
  /** Reads its text (a switch's variable or config value is read with `boolean`). */
  readonly parse: Parser<T>;
  /** A flag given several times, or a comma-separated variable: its values are a list. */
  readonly repeatable?: boolean;
  /** The value when nothing sets it. */
  readonly default?: T;
  /** The default where an entry point differs (the Lambda has less time to spend). */
  readonly defaultIn?: Partial<Record<Scope, T>>;
  /** The default as `--help` and the README say it, when there is no value to show. */
  readonly defaultText?: string;
  /**
   * How a default value is shown, when not as is (milliseconds shown as seconds). A
   * method, so a `Setting<number>` is still a `Setting`.
   */
  showDefault?(value: T): string;
  /** A secret: its value is never shown in an error, a log or `--help`. */
  readonly secret?: boolean;
  /** Where it applies. */
  readonly scopes: readonly Scope[];
  /** Where it must be set: an entry point that cannot start without it. */
  readonly requiredIn?: readonly Scope[];
}

/** Declares a setting, keeping its parser's type. */
export function setting<T>(declaration: Setting<T>): Setting<T> {
  return declaration;
}

/** The default of a setting in `scope`, if it has one. */
export function defaultOf<T>(declaration: Setting<T>, scope: Scope): T | undefined {
  return declaration.defaultIn?.[scope] ?? declaration.default;
}

/**
 * The default as shown to a person: in `scope`'s `--help`, the value there; for the
 * README (no scope), the value and each entry point's own, `30 (lambda: 20)`.
 */
export function describeDefault<T>(declaration: Setting<T>, scope?: Scope): string | undefined {
  if (declaration.secret) return undefined;
  const show = (value: T | undefined) =>
    value === undefined
      ? declaration.defaultText
      : declaration.showDefault
        ? declaration.showDefault(value)
        : Array.isArray(value)
          ? value.join(",")
          : String(value);
  if (scope) return show(defaultOf(declaration, scope));
  const own = Object.entries(declaration.defaultIn ?? {}).map(
    ([where, value]) => `${where}: ${show(value as T)}`,
  );
  const base = show(declaration.default);
  if (own.length === 0) return base;
  return `${base ?? "none"} (${own.join(", ")})`;
}
