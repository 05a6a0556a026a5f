import { type ClusterFlags, describeOutcome, outcomeStatus, submitterFor } from "../cluster.js";
import type { CliIo } from "../io.js";
import { renderFromFlags } from "../render-input.js";
import type { SettingsFlags } from "../settings.js";

export interface ScheduleFlags extends SettingsFlags, ClusterFlags {
  readonly event: string;
  readonly dryRun?: boolean;
  readonly output: "text" | "json";
}

/**
 * `ondemand-eks schedule`: renders the Job for one event and submits it. Prints the
 * outcome and the Job's name; an event that is not for us submits nothing.
 */
export async function schedule(flags: ScheduleFlags, io: CliIo): Promise<number> {
  const rendered = await renderFromFlags(flags, io);
  if (rendered.kind === "ignored") {
    if (flags.output === "json")
      io.stdout(`${JSON.stringify({ outcome: "ignored", reason: rendered.reason })}\n`);
    io.stderr(`ondemand-eks: not for us: ${rendered.reason}\n`);
    return 0;
  }
  const submitter = await submitterFor(flags, io);
  try {
    const outcome = await submitter.submit(rendered.manifest, { dryRun: flags.dryRun ?? false });
    if (flags.output === "json") {
      io.stdout(`${JSON.stringify({ ...outcome, podDefinition: rendered.definition.name })}\n`);
    } else {
      const line = describeOutcome(outcome, "Job");
      if (outcome.outcome === "created" || outcome.outcome === "exists") io.stdout(`${line}\n`);
      else io.stderr(`ondemand-eks: ${line}\n`);
    }
    return outcomeStatus(outcome);
  } finally {
    submitter.close();
  }
}
