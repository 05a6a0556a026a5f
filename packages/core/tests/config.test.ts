import { DEFAULT_SETTINGS, InvalidSettingsError, type Issue } from "@ondemand-eks/core";
import {
  boolean,
  describeDefault,
  httpUrl,
  list,
  loadSettings,
  oneOf,
  SCHEDULER_SETTINGS,
  type SettingSources,
  schedulerSettingsFrom,
  secondsAsMs,
  setting,
  settingsMarkdown,
  text,
  wholeNumber,
} from "@ondemand-eks/core/config";
import { describe, expect, it } from "vitest";

/** A small table of its own, so the loader is tested apart from the real settings. */
const T = {
  name: setting({
    key: "name",
    flag: "--name",
    placeholder: "<name>",
    env: ["TEST_NAME", "TEST_NAME_OLD"],
    description: "a name",
    parse: text,
    default: "fallback",
    scopes: ["schedule", "lambda"],
  }),
  count: setting({
    key: "count",
    flag: "--count",
    placeholder: "<n>",
    env: ["TEST_COUNT"],
    description: "a count",
    parse: wholeNumber(1, 10),
    default: 3,
    defaultIn: { lambda: 1 },
    scopes: ["schedule", "lambda"],
  }),
  items: setting({
    key: "items",
    flag: "--item",
    placeholder: "<item>",
    env: ["TEST_ITEMS"],
    description: "items",
    parse: list,
    repeatable: true,
    default: ["a"],
    scopes: ["schedule", "lambda"],
  }),
  on: setting({
    key: "on",
    flag: "--on",
    env: ["TEST_ON"],
    description: "a switch",
    parse: boolean,
    default: false,
    scopes: ["schedule"],
  }),
  nestedA: setting({
    key: "nested.a",
    flag: "--nested-a",
    env: ["TEST_NESTED_A"],
    description: "nested a",
    parse: text,
    scopes: ["schedule", "lambda"],
  }),
  nestedB: setting({
    key: "nested.b",
    flag: "--nested-b",
    env: ["TEST_NESTED_B"],
    description: "nested b",
    parse: wholeNumber(0, 5),
    scopes: ["schedule", "lambda"],
  }),
  password: setting({
    key: "password",
    env: ["TEST_PASSWORD"],
    inConfigFile: false,
    secret: true,
    description: "a secret",
    parse: wholeNumber(0, 9),
    scopes: ["schedule"],
  }),
  file: setting({
    key: "file",
    flag: "--file",
    env: ["TEST_FILE"],
    inConfigFile: false,
    description: "the config file",
    parse: text,
    scopes: ["schedule"],
  }),
};
const TABLE = Object.values(T);

function load(sources: Partial<SettingSources>) {
  return loadSettings(TABLE, { scope: "schedule", ...sources });
}

const config = (content: unknown) => ({ config: { name: "ci.yaml", content } });

describe("parsers", () => {
  it("text trims", () => {
    expect(text("  ci  ")).toEqual({ value: "ci" });
  });

  it("list splits on commas, trims, and drops empty items", () => {
    expect(list(" default, build ,,")).toEqual({ value: ["default", "build"] });
    expect(list(",")).toEqual({ value: [] });
  });

  it.each([
    ["true", true],
    ["TRUE", true],
    [" 1 ", true],
    ["yes", true],
    ["false", false],
    ["0", false],
    ["No", false],
  ])("boolean reads %j as %s", (raw, value) => {
    expect(boolean(raw)).toEqual({ value });
  });

  it("boolean refuses anything else", () => {
    expect(boolean("on")).toEqual({ expected: "true or false" });
    expect(boolean("")).toEqual({ expected: "true or false" });
  });

  it("wholeNumber takes its bounds, and says the unit and the range it expected", () => {
    const seconds = wholeNumber(1, 60, "seconds");
    expect(seconds("1")).toEqual({ value: 1 });
    expect(seconds(" 60 ")).toEqual({ value: 60 });
    for (const raw of ["0", "61", "1.5", "-1", "1e1", "0x10", "", "ten"]) {
      expect(seconds(raw)).toEqual({ expected: "a whole number of seconds from 1 to 60" });
    }
    expect(wholeNumber(0, 9)("10")).toEqual({ expected: "a whole number from 0 to 9" });
  });

  it("secondsAsMs takes fractions and gives milliseconds", () => {
    const timeout = secondsAsMs(0.1, 3_600);
    expect(timeout("30")).toEqual({ value: 30_000 });
    expect(timeout("0.1")).toEqual({ value: 100 });
    expect(timeout("1.2345")).toEqual({ value: 1_235 });
    for (const raw of ["0.05", "3601", "-1", "1e3", ".5", "5s", ""]) {
      expect(timeout(raw)).toEqual({ expected: "seconds from 0.1 to 3600" });
    }
  });

  it("oneOf takes exactly one of its choices", () => {
    const level = oneOf(["debug", "info"]);
    expect(level(" info ")).toEqual({ value: "info" });
    expect(level("INFO")).toEqual({ expected: "one of debug, info" });
  });

  it("httpUrl takes http:// and https:// URLs only", () => {
    expect(httpUrl("http://127.0.0.1:4566/q")).toEqual({ value: "http://127.0.0.1:4566/q" });
    expect(httpUrl(" https://sqs.eu-west-1.amazonaws.com/1/q ")).toEqual({
      value: "https://sqs.eu-west-1.amazonaws.com/1/q",
    });
    for (const raw of ["ftp://x", "https://", "https://a b", "sqs.amazonaws.com/1/q"]) {
      expect(httpUrl(raw)).toEqual({ expected: "an http:// or https:// URL" });
    }
  });
});

describe("loadSettings", () => {
  it("gives the defaults, from nowhere, when nothing is set", () => {
    const { settings, issues } = load({});
    expect(issues).toEqual([]);
    expect(settings.get(T.name)).toBe("fallback");
    expect(settings.get(T.count)).toBe(3);
    expect(settings.get(T.items)).toEqual(["a"]);
    expect(settings.get(T.nestedA)).toBeUndefined();
    expect(settings.origin("name")).toBeUndefined();
  });

  it("uses an entry point's own default, and nothing of settings outside its scope", () => {
    const { settings, issues } = loadSettings(TABLE, {
      scope: "lambda",
      env: { TEST_ON: "true", TEST_COUNT: "" },
      flags: { on: true },
    });
    expect(issues).toEqual([]);
    expect(settings.get(T.count)).toBe(1);
    expect(settings.get(T.on)).toBeUndefined();
    expect(settings.origin("on")).toBeUndefined();
  });

  it("takes the first environment variable that is set; an empty or blank one is unset", () => {
    expect(load({ env: { TEST_NAME_OLD: "old" } }).settings.get(T.name)).toBe("old");
    const both = load({ env: { TEST_NAME: "new", TEST_NAME_OLD: "old" } }).settings;
    expect(both.get(T.name)).toBe("new");
    expect(both.origin("name")).toBe("TEST_NAME");
    const blank = load({ env: { TEST_NAME: "  ", TEST_NAME_OLD: "old" } }).settings;
    expect(blank.get(T.name)).toBe("old");
    expect(blank.origin("name")).toBe("TEST_NAME_OLD");
  });

  it("reads flags by key: a value, a repeated flag's list, a switch", () => {
    const { settings, issues } = load({
      flags: { name: "ci", items: ["x", "y"], on: true, count: "4" },
    });
    expect(issues).toEqual([]);
    expect(settings.get(T.name)).toBe("ci");
    expect(settings.get(T.items)).toEqual(["x", "y"]);
    expect(settings.get(T.on)).toBe(true);
    expect(settings.get(T.count)).toBe(4);
    expect(settings.origin("items")).toBe("--item");
  });

  it("ignores a switch that is off, and a flag given for a setting that has none", () => {
    const { settings } = load({ env: { TEST_ON: "yes" }, flags: { on: false, password: "1" } });
    expect(settings.get(T.on)).toBe(true);
    expect(settings.get(T.password)).toBeUndefined();
  });

  it("flags beat the environment, which beats the config file, which beats the default", () => {
    const sources = {
      ...config({ name: "from-file", count: 5, items: ["f"] }),
      env: { TEST_NAME: "from-env", TEST_COUNT: "6" },
      flags: { name: "from-flag" },
    };
    const { settings, issues } = load(sources);
    expect(issues).toEqual([]);
    expect([settings.get(T.name), settings.origin("name")]).toEqual(["from-flag", "--name"]);
    expect([settings.get(T.count), settings.origin("count")]).toEqual([6, "TEST_COUNT"]);
    expect([settings.get(T.items), settings.origin("items")]).toEqual([
      ["f"],
      "config ci.yaml: items",
    ]);
    expect([settings.get(T.on), settings.origin("on")]).toEqual([false, undefined]);
  });

  it("reports a value that does not parse by its source, and keeps the value below it", () => {
    const { settings, issues } = load({
      ...config({ count: 5 }),
      env: { TEST_COUNT: "many" },
      flags: { on: "maybe" },
    });
    expect(issues).toEqual([
      { path: "TEST_COUNT", message: 'expected a whole number from 1 to 10, received "many"' },
      { path: "--on", message: 'expected true or false, received "maybe"' },
    ]);
    expect(settings.get(T.count)).toBe(5);
    expect(settings.origin("count")).toBe("config ci.yaml: count");
    expect(settings.get(T.on)).toBe(false);
  });

  it("reports every problem at once, from every source", () => {
    const { issues } = load({
      ...config({ count: 0, unknown: 1 }),
      env: { TEST_NESTED_B: "6" },
      flags: { count: "11" },
    });
    expect(issues.map((issue) => issue.path).sort()).toEqual([
      "--count",
      "TEST_NESTED_B",
      "config ci.yaml: count",
      "config ci.yaml: unknown",
    ]);
  });

  it("never repeats a secret's value, and cuts long values short", () => {
    const secret = load({ env: { TEST_PASSWORD: "hunter2" } }).issues;
    expect(secret).toEqual([
      { path: "TEST_PASSWORD", message: "expected a whole number from 0 to 9" },
    ]);
    const [long] = load({ env: { TEST_COUNT: "9".repeat(500) } }).issues;
    expect(long?.message).toMatch(/received "9{57}\.\.\."$/);
  });
});

describe("loadSettings: required settings", () => {
  const url = setting({
    key: "url",
    flag: "--url",
    placeholder: "<url>",
    env: ["TEST_URL"],
    description: "the queue's URL",
    parse: httpUrl,
    scopes: ["consume-sqs", "lambda"],
    requiredIn: ["consume-sqs", "lambda"],
  });
  const load = (sources: Omit<SettingSources, "scope">, scope: SettingSources["scope"]) =>
    loadSettings([url], { scope, ...sources }).issues;

  it("names a missing one by its flag and variables, or for the Lambda by its variable", () => {
    // Act
    const command = load({}, "consume-sqs");
    const lambda = load({}, "lambda");
    // Assess
    expect(command).toEqual([
      { path: "--url", message: "required: the queue's URL (or set TEST_URL)" },
    ]);
    expect(lambda).toEqual([{ path: "TEST_URL", message: "required: the queue's URL" }]);
  });

  it("is satisfied from any source, and a bad value is reported as bad, not also as missing", () => {
    expect(load({ env: { TEST_URL: "http://q" } }, "consume-sqs")).toEqual([]);
    expect(
      load({ config: { name: "c.yaml", content: { url: "http://q" } } }, "consume-sqs"),
    ).toEqual([]);
    expect(load({ flags: { url: "not a url" } }, "consume-sqs")).toEqual([
      { path: "--url", message: 'expected an http:// or https:// URL, received "not a url"' },
    ]);
  });
});

describe("loadSettings: the config file", () => {
  it("walks nested mappings to dotted keys", () => {
    const { settings, issues } = load(config({ nested: { a: "x", b: 2 } }));
    expect(issues).toEqual([]);
    expect(settings.get(T.nestedA)).toBe("x");
    expect(settings.get(T.nestedB)).toBe(2);
    expect(settings.origin("nested.b")).toBe("config ci.yaml: nested.b");
  });

  it("reads numbers and booleans as their text, and a list or a single value for a repeatable setting", () => {
    const listed = load(config({ count: 7, on: true, items: ["x", 2, false] })).settings;
    expect([listed.get(T.count), listed.get(T.on), listed.get(T.items)]).toEqual([
      7,
      true,
      ["x", "2", "false"],
    ]);
    expect(load(config({ items: "x, y" })).settings.get(T.items)).toEqual(["x", "y"]);
  });

  it("names unknown keys, nested ones with their whole path, and keys a file may not hold", () => {
    const { issues } = load(
      config({ nmae: "x", nested: { a: "x", c: 1 }, password: "1", file: "other.yaml" }),
    );
    const message = "not a setting a config file may hold";
    expect(issues).toEqual([
      { path: "config ci.yaml: nmae", message },
      { path: "config ci.yaml: nested.c", message },
      { path: "config ci.yaml: password", message },
      { path: "config ci.yaml: file", message },
    ]);
  });

  it("refuses a list for a single value, and a mapping or a list of mappings for any value", () => {
    const { issues } = load(
      config({ name: ["a", "b"], count: { value: 1 }, items: [{ x: 1 }], nested: "flat" }),
    );
    expect(issues).toEqual([
      { path: "config ci.yaml: name", message: "expected a single value" },
      { path: "config ci.yaml: count", message: "expected a single value" },
      { path: "config ci.yaml: items", message: "expected a value or a list of values" },
      { path: "config ci.yaml: nested", message: "not a setting a config file may hold" },
    ]);
  });

  it("skips empty values, and settings of other entry points without complaint", () => {
    const { settings, issues } = loadSettings(TABLE, {
      scope: "lambda",
      ...config({ name: null, on: "not even a boolean" }),
    });
    expect(issues).toEqual([]);
    expect(settings.get(T.name)).toBe("fallback");
  });

  it.each([[[1, 2]], ["namespace: ci"], [42]])(
    "refuses a file that is not a mapping: %j",
    (content) => {
      expect(load(config(content)).issues).toEqual([
        { path: "config ci.yaml", message: "expected a mapping of settings" },
      ]);
    },
  );

  it("takes an empty file as no settings", () => {
    expect(load(config(null)).issues).toEqual([]);
    expect(load(config(undefined)).issues).toEqual([]);
  });
});

/** What an entry point sees: the loader's issues and the schema's, together. */
function problemsOf(sources: Omit<SettingSources, "scope">): Issue[] {
  const { settings, issues } = loadSettings(Object.values(SCHEDULER_SETTINGS), {
    scope: "lambda",
    ...sources,
  });
  try {
    schedulerSettingsFrom(settings);
    return [...issues];
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSettingsError);
    return [...issues, ...(error as InvalidSettingsError).issues];
  }
}

describe("schedulerSettingsFrom", () => {
  const fromSources = (sources: Omit<SettingSources, "scope">) => {
    const loaded = loadSettings(Object.values(SCHEDULER_SETTINGS), {
      scope: "schedule",
      ...sources,
    });
    expect(loaded.issues).toEqual([]);
    return schedulerSettingsFrom(loaded.settings);
  };

  it("gives the documented defaults when nothing is set (or a variable is empty)", () => {
    expect(fromSources({})).toEqual(DEFAULT_SETTINGS);
    expect(fromSources({ env: { ONDEMAND_EKS_NAMESPACE: "" } })).toEqual(DEFAULT_SETTINGS);
    // Unset, not an empty string: the Jobs get no BUILDKITE_AGENT_ENDPOINT at all.
    expect(fromSources({ env: { ONDEMAND_EKS_AGENT_ENDPOINT: " " } })).not.toHaveProperty(
      "agentEndpoint",
    );
  });

  it("reads every variable into its setting", () => {
    expect(
      fromSources({
        env: {
          ONDEMAND_EKS_NAMESPACE: "ci",
          ONDEMAND_EKS_PRIVILEGED_NAMESPACE: "ci-privileged",
          ONDEMAND_EKS_AGENT_TOKEN_SECRET: "agent",
          ONDEMAND_EKS_AGENT_TOKEN_SECRET_KEY: "value",
          ONDEMAND_EKS_TTL_SECONDS_AFTER_FINISHED: "60",
          ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS: " 3600 ",
          ONDEMAND_EKS_QUEUES: "default, build ,",
          ONDEMAND_EKS_DEFAULT_POD: "elastic-ci-stack",
          ONDEMAND_EKS_AGENT_ENDPOINT: " http://127.0.0.1:4321/v3 ",
        },
      }),
    ).toEqual({
      namespace: "ci",
      privilegedNamespace: "ci-privileged",
      agentTokenSecret: { name: "agent", key: "value" },
      ttlSecondsAfterFinished: 60,
      activeDeadlineSeconds: 3600,
      queues: ["default", "build"],
      defaultPodDefinition: "elastic-ci-stack",
      agentEndpoint: "http://127.0.0.1:4321/v3",
    });
  });

  it("reads the agent endpoint from a flag, over the variable and the config file", () => {
    const endpoint = (sources: Omit<SettingSources, "scope">) => fromSources(sources).agentEndpoint;
    const file = config({ agentEndpoint: "https://file.example.com/v3" });
    expect(endpoint(file)).toBe("https://file.example.com/v3");
    expect(
      endpoint({ ...file, env: { ONDEMAND_EKS_AGENT_ENDPOINT: "https://env.example.com" } }),
    ).toBe("https://env.example.com");
    expect(
      endpoint({
        ...file,
        env: { ONDEMAND_EKS_AGENT_ENDPOINT: "https://env.example.com" },
        flags: { agentEndpoint: "http://emulator:8080/v3" },
      }),
    ).toBe("http://emulator:8080/v3");
  });

  it("reads a config file's camelCase keys, agentTokenSecret as a mapping and queues as a list", () => {
    expect(
      fromSources(
        config({
          namespace: "ci",
          privilegedNamespace: "ci-privileged",
          agentTokenSecret: { name: "agent", key: "value" },
          ttlSecondsAfterFinished: 60,
          activeDeadlineSeconds: 3600,
          queues: ["default", "build"],
          defaultPodDefinition: "elastic-ci-stack",
        }),
      ),
    ).toEqual({
      namespace: "ci",
      privilegedNamespace: "ci-privileged",
      agentTokenSecret: { name: "agent", key: "value" },
      ttlSecondsAfterFinished: 60,
      activeDeadlineSeconds: 3600,
      queues: ["default", "build"],
      defaultPodDefinition: "elastic-ci-stack",
    });
  });

  it.each([
    ["ONDEMAND_EKS_NAMESPACE", "Not A Namespace", "expected a Kubernetes namespace name"],
    [
      "ONDEMAND_EKS_TTL_SECONDS_AFTER_FINISHED",
      "10m",
      'expected a whole number of seconds from 0 to 2147483647, received "10m"',
    ],
    [
      "ONDEMAND_EKS_TTL_SECONDS_AFTER_FINISHED",
      "99999999999",
      "expected a whole number of seconds from 0 to 2147483647",
    ],
    [
      "ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS",
      "1.5",
      'expected a whole number of seconds from 1 to 2147483647, received "1.5"',
    ],
    ["ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS", "0", "expected a whole number of seconds from 1"],
    ["ONDEMAND_EKS_QUEUES", "a b", "expected a queue name without spaces"],
    ["ONDEMAND_EKS_QUEUES", "default,a=b", "expected a queue name without spaces, commas or ="],
    ["ONDEMAND_EKS_QUEUES", " , ", "expected at least one queue"],
    ["ONDEMAND_EKS_AGENT_TOKEN_SECRET_KEY", "a/b", "expected a Secret key"],
    ["ONDEMAND_EKS_DEFAULT_POD", "Not_A_Pod", "expected a pod definition name"],
    [
      "ONDEMAND_EKS_AGENT_ENDPOINT",
      "agent.buildkite.com/v3",
      "expected an absolute http:// or https:// URL without credentials",
    ],
    ["ONDEMAND_EKS_AGENT_ENDPOINT", "ftp://agent.example.com", "expected an absolute http://"],
  ])("an invalid %s (%j) is reported by its variable name", (variable, value, message) => {
    const problems = problemsOf({ env: { [variable]: value } });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe(variable);
    expect(problems[0]?.message).toContain(message);
  });

  it("reports every problem at once, each with its source", () => {
    const { settings, issues } = loadSettings(Object.values(SCHEDULER_SETTINGS), {
      scope: "schedule",
      ...config({ agentTokenSecret: { key: "a/b" }, defaultPodDefinition: "Bad Pod" }),
      env: { ONDEMAND_EKS_QUEUES: "default,a b" },
      flags: { namespace: "Not_A_Namespace" },
    });
    expect(issues).toEqual([]);
    let caught: unknown;
    try {
      schedulerSettingsFrom(settings);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidSettingsError);
    expect((caught as InvalidSettingsError).issues.map((issue) => issue.path).sort()).toEqual([
      "--namespace",
      "ONDEMAND_EKS_QUEUES",
      "config ci.yaml: agentTokenSecret.key",
      "config ci.yaml: defaultPodDefinition",
    ]);
  });

  it("names the agent endpoint's flag or config key, and never echoes it (it may carry credentials)", () => {
    const bad = "https://user:s3cr3t@proxy.example.com/v3";
    for (const [sources, path] of [
      [{ flags: { agentEndpoint: bad } }, "--agent-endpoint"],
      [config({ agentEndpoint: bad }), "config ci.yaml: agentEndpoint"],
    ] as const) {
      const problems = problemsOf(sources);
      expect(problems).toEqual([
        {
          path,
          message:
            "expected an absolute http:// or https:// URL without credentials, like https://agent.buildkite.com/v3",
        },
      ]);
    }
  });

  it("never echoes a value the schema rejects (a mistyped token stays out of logs)", () => {
    const problems = problemsOf({ env: { ONDEMAND_EKS_AGENT_TOKEN_SECRET: "bk-TOKEN-abc123" } });
    expect(problems.map((problem) => problem.path)).toEqual(["ONDEMAND_EKS_AGENT_TOKEN_SECRET"]);
    expect(JSON.stringify(problems)).not.toContain("bk-TOKEN-abc123");
  });
});

describe("settingsMarkdown", () => {
  it("one row per setting: config key, flag with its placeholder, variables, default, scopes, meaning", () => {
    const lines = settingsMarkdown([T.name, T.password, T.on]).split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(
      /^\| config key +\| flag +\| environment +\| default +\| used by +\| meaning +\|$/,
    );
    expect(lines[1]).toMatch(/^\|( -+ \|){6}$/);
    expect(lines[2]?.split("|").map((cell) => cell.trim())).toEqual([
      "",
      "`name`",
      "`--name <name>`",
      "`TEST_NAME`, `TEST_NAME_OLD`",
      "`fallback`",
      "schedule, lambda",
      "a name",
      "",
    ]);
    expect(lines[3]?.split("|").map((cell) => cell.trim())).toEqual([
      "",
      "",
      "",
      "`TEST_PASSWORD`",
      "",
      "schedule",
      "a secret",
      "",
    ]);
    expect(lines[4]).toContain("| `--on` ");
  });

  it("pads every column to one width, as a Markdown formatter would", () => {
    const lines = settingsMarkdown(Object.values(SCHEDULER_SETTINGS)).split("\n");
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
    expect(lines[2]).toContain("| all ");
  });

  it("escapes a | in a description so the row keeps its columns", () => {
    const piped = setting({ ...T.name, description: "a | b" });
    expect(settingsMarkdown([piped])).toContain("a \\| b");
  });

  it("describes a default as set, or as its text, and never a secret's", () => {
    expect(describeDefault(T.items)).toBe("a");
    expect(describeDefault(T.count, "lambda")).toBe("1");
    // Text stands in for a default there is no value for, never for one there is.
    expect(describeDefault({ ...T.name, default: undefined, defaultText: "the name" })).toBe(
      "the name",
    );
    expect(describeDefault({ ...T.name, default: "x", defaultText: "the name" })).toBe("x");
    // Without a scope (the README), each entry point's own default too, shown its way.
    const ms = setting({
      ...T.count,
      default: 30_000,
      defaultIn: { lambda: 20_000 },
      showDefault: (value: number) => String(value / 1000),
    });
    expect(describeDefault(ms)).toBe("30 (lambda: 20)");
    expect(describeDefault(ms, "lambda")).toBe("20");
    expect(describeDefault(ms, "schedule")).toBe("30");
    expect(describeDefault({ ...T.password, default: 1 })).toBeUndefined();
  });
});
