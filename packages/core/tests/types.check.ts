/**
 * Type-level guarantees, checked by `tsc -p tsconfig.test.json` (never run). Each
 * `@ts-expect-error` fails the type check if the line below it starts to compile.
 */
import {
  definePodDefinition,
  type JobManifest,
  type ParsedEvent,
  type PodDefinition,
  type PodDefinitionInput,
  parsePodDefinition,
  type SchedulerSettingsInput,
} from "@ondemand-eks/core";

declare const event: ParsedEvent;
declare const manifest: JobManifest;

// A literal agent token has no field to go in: settings take a Secret reference only.
const literalInSecret: SchedulerSettingsInput = {
  // @ts-expect-error no `value` beside the Secret's name and key
  agentTokenSecret: { name: "buildkite-agent-token", key: "token", value: "literal" },
};
// @ts-expect-error no top-level token setting either
const literalToken: SchedulerSettingsInput = { agentToken: "literal" };

if (event.kind === "scheduled") {
  const uuid: string = event.job.uuid;
  // @ts-expect-error the job's command is not part of a ScheduledJob
  const command = event.job.command;
  void [uuid, command];
}

// The builder's output is a batch/v1 Job.
const apiVersion: "batch/v1" = manifest.apiVersion;
void [literalInSecret, literalToken, apiVersion];

// Definitions written in TypeScript are typed: a misspelt field fails tsc, not the run.
declare const untrusted: unknown;
const typed = (): PodDefinition[] => [
  definePodDefinition({
    name: "node-postgres",
    agent: { image: "buildkite/agent:3", tags: { arch: "arm64" } },
    services: [{ name: "postgres", image: "postgres:17" }],
  }),
  definePodDefinition({
    name: "linux",
    mode: "long-polling",
    agent: { image: "buildkite/agent:3" },
    longPolling: { queue: "linux", replicas: 2 },
  }),
  // @ts-expect-error `servics` is not a field (services is)
  definePodDefinition({ name: "x", agent: { image: "buildkite/agent:3" }, servics: [] }),
  // @ts-expect-error mode is "one-shot" or "long-polling"
  definePodDefinition({ name: "x", mode: "polling", agent: { image: "buildkite/agent:3" } }),
  // @ts-expect-error `extends` is for pod libraries, not stand-alone definitions
  definePodDefinition({ name: "x", extends: "default" }),
  // @ts-expect-error a service is named
  definePodDefinition({ name: "x", agent: { image: "a" }, services: [{ image: "redis" }] }),
  // @ts-expect-error untrusted data goes through parsePodDefinition, not the typed function
  definePodDefinition(untrusted),
  parsePodDefinition(untrusted),
];
const input: PodDefinitionInput = { name: "small", agent: { image: "buildkite/agent:3" } };
void [typed, input];
