/**
 * Type-level guarantees, checked by `tsc -p tsconfig.test.json` (never run). Each
 * `@ts-expect-error` fails the type check if the line below it starts to compile.
 */
import type { JobManifest, ParsedEvent, SchedulerSettingsInput } from "@ondemand-eks/core";

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
