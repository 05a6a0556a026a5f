import { InvalidSettingsError, type Issue, resolveSettings } from "@ondemand-eks/core";
import {
  boolean,
  httpUrl,
  list,
  loadSettings,
  oneOf,
  type Parser,
  SCHEDULER_SETTINGS,
  type Setting,
  schedulerSettingsFrom,
  secondsAsMs,
  setting,
  text,
  wholeNumber,
} from "@ondemand-eks/core/config";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const NUM_RUNS = 300;

const PARSERS: Record<string, Parser<unknown>> = {
  text,
  list,
  boolean,
  httpUrl,
  wholeNumber: wholeNumber(0, 100, "seconds"),
  secondsAsMs: secondsAsMs(0.1, 3_600),
  oneOf: oneOf(["debug", "info", "warn", "error"]),
};

/** A setting's text as any source could hold it: any characters, any whitespace. */
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.stringMatching(/^\s*-?\d{0,12}(\.\d{0,4})?\s*$/),
  fc.constantFrom("true", "no", "info", "https://x", "1e3", "0x1f", "Infinity", "NaN"),
);

/** A value that counts as set in every source (an empty or blank variable is unset). */
const setText = fc
  .string({ minLength: 1, maxLength: 20 })
  .filter((value) => value.trim() !== "" && value === value.trim());

describe("settings properties", () => {
  it("a parser never throws, and gives either a value or what it expected", () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(PARSERS)), anyText, (name, raw) => {
        const parsed = (PARSERS[name] as Parser<unknown>)(raw);
        expect("value" in parsed !== "expected" in parsed).toBe(true);
        if ("expected" in parsed) expect(parsed.expected).not.toBe("");
      }),
      { numRuns: NUM_RUNS * 3 },
    );
  });

  it("wholeNumber accepts exactly the whole numbers in its range, written plainly", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: -10, max: 1_100 }),
        (a, b, n) => {
          const [min, max] = a <= b ? [a, b] : [b, a];
          const parsed = wholeNumber(min, max)(` ${n} `);
          expect(parsed).toEqual(
            n >= min && n <= max
              ? { value: n }
              : { expected: `a whole number from ${min} to ${max}` },
          );
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("list: items without commas come back trimmed, without the empty ones", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 8 }).filter((item) => !item.includes(","))),
        (items) => {
          expect(list(items.join(","))).toEqual({
            value: items.map((item) => item.trim()).filter(Boolean),
          });
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("precedence: flags beat the environment, which beats the config file, which beats the default", () => {
    const name = setting({
      key: "name",
      flag: "--name",
      env: ["NAME"],
      description: "a name",
      parse: text,
      default: "the-default",
      scopes: ["schedule"],
    });
    fc.assert(
      fc.property(
        fc.option(setText, { nil: undefined }),
        fc.option(setText, { nil: undefined }),
        fc.option(setText, { nil: undefined }),
        (fromFile, fromEnv, fromFlag) => {
          const { settings, issues } = loadSettings([name], {
            scope: "schedule",
            config: { name: "c.yaml", content: fromFile === undefined ? {} : { name: fromFile } },
            env: { NAME: fromEnv },
            flags: { name: fromFlag },
          });
          expect(issues).toEqual([]);
          const [value, origin] =
            fromFlag !== undefined
              ? [fromFlag, "--name"]
              : fromEnv !== undefined
                ? [fromEnv, "NAME"]
                : fromFile !== undefined
                  ? [fromFile, "config c.yaml: name"]
                  : ["the-default", undefined];
          expect(settings.get(name)).toBe(value);
          expect(settings.origin("name")).toBe(origin);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("agentEndpoint: any http(s) URL is taken as written; one with credentials is refused, unechoed", () => {
    const url = (withUserInfo: boolean) =>
      fc.webUrl({
        authoritySettings: { withIPv4: true, withIPv6: true, withPort: true, withUserInfo },
        withQueryParameters: true,
        withFragments: true,
      });
    fc.assert(
      fc.property(url(false), (agentEndpoint) => {
        expect(resolveSettings({ agentEndpoint }).agentEndpoint).toBe(agentEndpoint);
      }),
      { numRuns: NUM_RUNS },
    );
    fc.assert(
      fc.property(
        url(true).filter((value) => /^https?:\/\/[^/?#]*@/.test(value)),
        (agentEndpoint) => {
          expect(() => resolveSettings({ agentEndpoint })).toThrow(InvalidSettingsError);
          try {
            resolveSettings({ agentEndpoint });
          } catch (error) {
            expect(String(error)).not.toContain(agentEndpoint);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("every issue names its source, from the loader and from the schema, whatever the sources hold", () => {
    const table: Setting[] = [
      ...Object.values(SCHEDULER_SETTINGS),
      setting({
        key: "on",
        flag: "--on",
        env: ["ON"],
        description: "a switch",
        parse: boolean,
        scopes: ["schedule"],
      }),
      setting({
        key: "token",
        env: ["TOKEN"],
        inConfigFile: false,
        secret: true,
        description: "a secret",
        parse: wholeNumber(0, 9),
        scopes: ["schedule"],
      }),
    ];
    const flags = table.flatMap((declaration) => (declaration.flag ? [declaration.flag] : []));
    const variables = table.flatMap((declaration) => declaration.env);
    const names = (issues: readonly Issue[]) =>
      issues.every(
        (issue) =>
          flags.includes(issue.path) ||
          variables.includes(issue.path) ||
          issue.path === "config f.yaml" ||
          issue.path.startsWith("config f.yaml: "),
      );
    const keys = table.map((declaration) => declaration.key);
    const configValue = fc.oneof(
      anyText,
      fc.integer(),
      fc.boolean(),
      fc.array(anyText, { maxLength: 3 }),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...variables), anyText),
        fc.dictionary(
          fc.constantFrom(...keys),
          fc.oneof(anyText, fc.array(anyText, { maxLength: 3 }), fc.boolean()),
        ),
        fc.oneof(
          fc.dictionary(fc.constantFrom(...keys, "agentTokenSecret", "unknown"), configValue),
          fc.record({
            agentTokenSecret: fc.dictionary(fc.constantFrom("name", "key", "value"), configValue),
          }),
          fc.jsonValue(),
        ),
        (env, flagValues, content) => {
          const { settings, issues } = loadSettings(table, {
            scope: "schedule",
            env,
            flags: flagValues,
            config: { name: "f.yaml", content },
          });
          expect(names(issues)).toBe(true);
          // A secret's value is never shown: its message is only what was expected.
          for (const issue of issues.filter((problem) => problem.path === "TOKEN")) {
            expect(issue.message).toBe("expected a whole number from 0 to 9");
          }
          try {
            schedulerSettingsFrom(settings);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidSettingsError);
            expect(names((error as InvalidSettingsError).issues)).toBe(true);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
