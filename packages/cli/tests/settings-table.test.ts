import { ALL_SETTINGS, CLI_SETTINGS } from "@ondemand-eks/cli";
import { CONTROLLER_SETTINGS } from "@ondemand-eks/controller/settings";
import { SCHEDULER_SETTINGS, SCOPES, type Setting } from "@ondemand-eks/core/config";
import { RUNTIME_SETTINGS, SETTINGS } from "@ondemand-eks/runtime";
import { describe, expect, it } from "vitest";

/** Variables that other tools define, read under their own names. */
const FOREIGN_VARIABLES = [
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "PORT",
  "BUILDKITE_WEBHOOK_TOKEN",
  "BUILDKITE_CLUSTER_TOKEN",
  // The downward API's usual name for the pod's namespace (the controller's Lease).
  "POD_NAMESPACE",
];

const duplicates = (names: readonly string[]) =>
  names.filter((name, index) => names.indexOf(name) !== index);

/** A switch: a flag without a value, read as true or false from text. */
const isSwitch = (declaration: Setting) => {
  const on = declaration.parse("true");
  const off = declaration.parse("false");
  return "value" in on && on.value === true && "value" in off && off.value === false;
};

/**
 * A default as a person would write it: a list comma-separated, and for a setting held
 * in milliseconds but written in seconds (its parser reads 1 as 1000), its seconds.
 */
function written(declaration: Setting, value: unknown): string {
  if (Array.isArray(value)) return value.join(",");
  // A setting in seconds parses "1" (or, with a floor above 1 s, "3600") to milliseconds.
  const inSeconds = [1, 3_600].some((n) => {
    const parsed = declaration.parse(String(n));
    return "value" in parsed && parsed.value === n * 1000;
  });
  return inSeconds ? String((value as number) / 1000) : String(value);
}

describe("the settings table", () => {
  it("holds every declaration exactly once, --config first", () => {
    const runtime = [...Object.values(SCHEDULER_SETTINGS), ...Object.values(RUNTIME_SETTINGS)];
    expect(new Set(SETTINGS)).toEqual(new Set(runtime));
    expect(SETTINGS).toHaveLength(runtime.length);
    const all = [...runtime, ...Object.values(CLI_SETTINGS), ...Object.values(CONTROLLER_SETTINGS)];
    expect(new Set(ALL_SETTINGS)).toEqual(new Set(all));
    expect(ALL_SETTINGS).toHaveLength(all.length);
    expect(ALL_SETTINGS[0]).toBe(CLI_SETTINGS.config);
  });

  it("the runtime's settings are only those a Lambda function or every command needs", () => {
    // The command's listener and SQS settings stay out of the Lambda bundle.
    for (const declaration of Object.values(CLI_SETTINGS)) {
      expect(declaration.scopes, declaration.key).not.toContain("lambda");
    }
  });

  it("every key, flag and environment variable names one setting", () => {
    expect(duplicates(ALL_SETTINGS.map((declaration) => declaration.key))).toEqual([]);
    expect(duplicates(ALL_SETTINGS.flatMap((declaration) => declaration.flag ?? []))).toEqual([]);
    expect(duplicates(ALL_SETTINGS.flatMap((declaration) => declaration.env))).toEqual([]);
  });

  it.each(ALL_SETTINGS.map((declaration) => [declaration.key, declaration] as const))(
    "%s is well formed",
    (_key, declaration) => {
      // A config key is camelCase, dotted for a nested mapping.
      expect(declaration.key).toMatch(/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*$/);
      if (declaration.flag !== undefined)
        expect(declaration.flag).toMatch(/^--[a-z0-9]+(-[a-z0-9]+)*$/);
      // A switch takes no value; any other flag says what its value is.
      if (declaration.flag !== undefined) {
        expect(declaration.placeholder === undefined).toBe(isSwitch(declaration));
      }
      expect(declaration.env.length).toBeGreaterThan(0);
      for (const variable of declaration.env) {
        expect(variable).toMatch(/^[A-Z][A-Z0-9_]*$/);
        if (!FOREIGN_VARIABLES.includes(variable)) expect(variable).toMatch(/^ONDEMAND_EKS_/);
      }
      expect(declaration.scopes.length).toBeGreaterThan(0);
      expect(duplicates(declaration.scopes)).toEqual([]);
      for (const scope of declaration.scopes) expect(SCOPES).toContain(scope);
      for (const scope of Object.keys(declaration.defaultIn ?? {})) {
        expect(declaration.scopes).toContain(scope);
      }
      // One line for --help and the README, without a final period.
      expect(declaration.description).toMatch(/^[^\n]+[^.\n]$/);
    },
  );

  it("no secret has a flag (ps shows flags) or a config-file key, nor a default to show", () => {
    const secrets = ALL_SETTINGS.filter((declaration) => declaration.secret);
    expect(secrets.map((declaration) => declaration.key)).toEqual(["webhookToken", "clusterToken"]);
    for (const secret of secrets) {
      expect(secret.flag).toBeUndefined();
      expect(secret.placeholder).toBeUndefined();
      expect(secret.inConfigFile).toBe(false);
      expect(secret.default).toBeUndefined();
    }
  });

  it("every placeholder is commander's <value>, so its flag takes a value", () => {
    for (const declaration of ALL_SETTINGS) {
      if (declaration.placeholder === undefined) continue;
      expect(declaration.placeholder, declaration.key).toMatch(/^<[^<>]+>$/);
    }
  });

  it("every default is what its parser gives for the default written out", () => {
    for (const declaration of ALL_SETTINGS) {
      const defaults = [
        ...(declaration.default === undefined ? [] : [declaration.default]),
        ...Object.values(declaration.defaultIn ?? {}),
      ];
      for (const value of defaults) {
        expect(declaration.parse(written(declaration, value)), declaration.key).toEqual({ value });
      }
    }
  });

  it("a repeatable setting reads a comma-separated list", () => {
    const repeatable = ALL_SETTINGS.filter((declaration) => declaration.repeatable);
    expect(repeatable.map((declaration) => declaration.key)).toEqual(["queues"]);
    for (const declaration of repeatable) {
      expect(declaration.parse("a, b")).toEqual({ value: ["a", "b"] });
    }
  });

  it("the scheduler's own settings apply to every entry point", () => {
    for (const declaration of Object.values(SCHEDULER_SETTINGS)) {
      expect([...declaration.scopes].sort()).toEqual([...SCOPES].sort());
    }
  });
});
