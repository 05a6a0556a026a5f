/**
 * The public API, name by name. Adding, removing or renaming an export of an entry point
 * fails this test until the list below changes with it: a change to the API is a
 * decision someone writes down, never a side effect of an `export *`.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ENTRIES = {
  "@ondemand-eks/core": "index.ts",
  "@ondemand-eks/core/events": "events/index.ts",
  "@ondemand-eks/core/manifest": "manifest/index.ts",
  "@ondemand-eks/core/pod-definition": "pod-definition/index.ts",
  "@ondemand-eks/core/config": "config/index.ts",
  "@ondemand-eks/core/testing": "testing/index.ts",
} as const;
type Entry = keyof typeof ENTRIES;

const pathOf = (entry: Entry) =>
  fileURLToPath(new URL(`../src/${ENTRIES[entry]}`, import.meta.url));

/** One program over every entry point, with the package's own compiler options. */
function program(): ts.Program {
  const config = fileURLToPath(new URL("../tsconfig.json", import.meta.url));
  const { config: json } = ts.readConfigFile(config, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(
    json,
    ts.sys,
    fileURLToPath(new URL("..", import.meta.url)),
  );
  return ts.createProgram(
    Object.keys(ENTRIES).map((e) => pathOf(e as Entry)),
    options,
  );
}

const compiled = program();

/** Every name the entry exports (values and types), as the type checker resolves them. */
function allNames(entry: Entry): string[] {
  const source = compiled.getSourceFile(pathOf(entry));
  const checker = compiled.getTypeChecker();
  const module = source && checker.getSymbolAtLocation(source);
  if (!module) throw new Error(`cannot read ${ENTRIES[entry]}`);
  return checker.getExportsOfModule(module).map((symbol) => symbol.name);
}

/** The entry's export declarations that name nothing: `export * from` and `export * as`. */
function starExports(entry: Entry): string[] {
  const source = compiled.getSourceFile(pathOf(entry));
  const stars: string[] = [];
  for (const statement of source?.statements ?? []) {
    if (!ts.isExportDeclaration(statement)) continue;
    const clause = statement.exportClause;
    if (!clause || ts.isNamespaceExport(clause)) stars.push(statement.getText(source));
  }
  return stars;
}

async function apiOf(entry: Entry): Promise<{ values: string[]; types: string[] }> {
  const loaded: Record<Entry, () => Promise<object>> = {
    "@ondemand-eks/core": () => import("../src/index.js"),
    "@ondemand-eks/core/events": () => import("../src/events/index.js"),
    "@ondemand-eks/core/manifest": () => import("../src/manifest/index.js"),
    "@ondemand-eks/core/pod-definition": () => import("../src/pod-definition/index.js"),
    "@ondemand-eks/core/config": () => import("../src/config/index.js"),
    "@ondemand-eks/core/testing": () => import("../src/testing/index.js"),
  };
  const values = Object.keys(await loaded[entry]()).sort();
  const types = allNames(entry)
    .filter((name) => !values.includes(name))
    .sort();
  return { values, types };
}

const API: Record<Entry, { values: string[]; types: string[] }> = {
  "@ondemand-eks/core": {
    values: [
      "ANNOTATIONS",
      "DEFAULT_SETTINGS",
      "ERROR_CODES",
      "InvalidEventError",
      "InvalidPodDefinitionError",
      "InvalidSettingsError",
      "LABELS",
      "OndemandEksError",
      "STALE_METRICS_MS",
      "UnknownPodDefinitionError",
      "admit",
      "buildDeployment",
      "buildJob",
      "definePodDefinition",
      "desiredReplicas",
      "dispositionOf",
      "formatIssues",
      "hasErrorCode",
      "isOndemandEksError",
      "observeJob",
      "parseEvent",
      "parsePodDefinition",
      "planPass",
      "renderEvent",
      "renderParsedEvent",
      "resolveSettings",
      "routeJob",
      "safeParseEvent",
      "safeParsePodDefinition",
      "sampleManifest",
      "schedule",
      "startFailureOf",
    ],
    types: [
      "AdmissionCandidate",
      "AdmissionInput",
      "BuildDeploymentOptions",
      "BuildJobOptions",
      "ContainerStatusLike",
      "DeploymentManifest",
      "Disposition",
      "ErrorCode",
      "EventForm",
      "FinishedJob",
      "Issue",
      "JobLike",
      "JobManifest",
      "LogFields",
      "Logger",
      "LongPolling",
      "ObservedJob",
      "ParseEventOptions",
      "ParsedEvent",
      "PassAction",
      "PassInput",
      "PassLimits",
      "PassPlan",
      "PodDefinition",
      "PodDefinitionInput",
      "PodDefinitionLookup",
      "PodLike",
      "PoolScaling",
      "QueueDepth",
      "QueueListing",
      "RenderEventOptions",
      "RenderedEvent",
      "Result",
      "Route",
      "ScaleDecision",
      "ScaleState",
      "ScheduleDependencies",
      "ScheduleOutcome",
      "ScheduledJob",
      "SchedulerSettings",
      "SchedulerSettingsInput",
      "StartFailure",
      "StartFailureLimits",
      "StartFailureReason",
      "SubmitOutcome",
    ],
  },
  "@ondemand-eks/core/events": {
    values: [
      "EventBridgeEnvelopeSchema",
      "JobEventDetailSchema",
      "JobFinishedDetailSchema",
      "WebhookJobFinishedSchema",
      "WebhookJobScheduledSchema",
      "parseEvent",
      "safeParseEvent",
    ],
    types: [
      "EventForm",
      "FinishedJob",
      "ParseEventOptions",
      "ParsedEvent",
      "Result",
      "ScheduledJob",
    ],
  },
  "@ondemand-eks/core/manifest": {
    values: [
      "ANNOTATIONS",
      "LABELS",
      "MANAGED_BY",
      "MAX_ANNOTATION_LENGTH",
      "buildDeployment",
      "buildJob",
      "deploymentName",
      "isLabelKey",
      "isLabelValue",
      "jobName",
      "toLabelValue",
    ],
    types: [
      "BuildDeploymentOptions",
      "BuildJobOptions",
      "Container",
      "DeploymentManifest",
      "EnvVar",
      "JobManifest",
      "ObjectMeta",
      "PodSpec",
      "PodTemplate",
    ],
  },
  "@ondemand-eks/core/pod-definition": {
    values: [
      "FARGATE_MAX",
      "FARGATE_SIZES",
      "POD_COMPUTES",
      "PRIVILEGE_FEATURES",
      "PodDefinitionSourceSchema",
      "checkAccess",
      "checkPodDefinition",
      "definePodDefinition",
      "fargateSize",
      "parsePodDefinition",
      "privilegeUses",
      "safeParsePodDefinition",
      "safeParsePodDefinitionSource",
    ],
    types: [
      "AccessDecision",
      "AccessRequest",
      "AccessRule",
      "LongPolling",
      "PodAccess",
      "PodCompute",
      "PodDefinition",
      "PodDefinitionInput",
      "PodDefinitionSource",
      "PodSize",
      "PoolScaling",
      "PrivilegeFeature",
      "PrivilegeSubject",
      "PrivilegeUse",
      "ServiceContainer",
    ],
  },
  "@ondemand-eks/core/config": {
    values: [
      "SCHEDULER_SETTINGS",
      "SCOPES",
      "boolean",
      "defaultOf",
      "describeDefault",
      "httpUrl",
      "list",
      "loadSettings",
      "oneOf",
      "schedulerSettingsFrom",
      "secondsAsMs",
      "setting",
      "settingsMarkdown",
      "text",
      "wholeNumber",
    ],
    types: [
      "LoadResult",
      "LoadedSettings",
      "Parsed",
      "Parser",
      "Scope",
      "Setting",
      "SettingSources",
    ],
  },
  "@ondemand-eks/core/testing": {
    values: ["COMMAND_MARK", "UNTRUSTED_MARK", "arbitraries"],
    types: [
      "AgentQueryRuleOptions",
      "AgentQueryRulesOptions",
      "GeneratedEvent",
      "GeneratedRules",
      "HostileTextOptions",
      "PodDefinitionOptions",
      "QueueDepthOptions",
      "ScheduledEventOptions",
      "SettingsOptions",
    ],
  },
};

describe("package.json", () => {
  it("exports exactly these entry points, each resolving to its source in development", () => {
    // Prepare
    const manifest = JSON.parse(
      readFileSync(new URL("../package.json", import.meta.url), "utf8"),
    ) as { exports: Record<string, string | Record<string, unknown>> };

    // Act
    const entries = Object.entries(manifest.exports)
      .filter(([subpath]) => subpath !== "./package.json")
      .map(([subpath, target]) => [
        `@ondemand-eks/core${subpath.slice(1)}`,
        typeof target === "object" ? target["@ondemand-eks/source"] : target,
      ]);

    // Assess
    expect(Object.fromEntries(entries)).toEqual(
      Object.fromEntries(Object.entries(ENTRIES).map(([entry, file]) => [entry, `./src/${file}`])),
    );
  });
});

/** Every package an entry reaches, through its own relative imports. */
function packagesReached(entry: Entry): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith(".")) {
        visit(fileURLToPath(new URL(fileName.replace(/\.js$/, ".ts"), `file://${file}`)));
      } else {
        packages.add(fileName);
      }
    }
  };
  visit(pathOf(entry));
  return packages;
}

describe("fast-check", () => {
  it.each(Object.keys(ENTRIES) as Entry[])(
    "%s reaches it only if it is the testing entry (an optional peer)",
    (entry) => {
      expect(packagesReached(entry).has("fast-check")).toBe(entry === "@ondemand-eks/core/testing");
    },
  );
});

describe.each(Object.keys(ENTRIES) as Entry[])("%s", (entry) => {
  it("exports exactly the listed values and types", async () => {
    // Act
    const api = await apiOf(entry);

    // Assess
    expect(api).toEqual({
      values: [...API[entry].values].sort(),
      types: [...API[entry].types].sort(),
    });
  });

  it("names every export (no `export *`)", () => {
    expect(starExports(entry)).toEqual([]);
  });
});
