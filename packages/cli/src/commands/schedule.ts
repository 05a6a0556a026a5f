import { dispositionOf, type ScheduleOutcome } from "@ondemand-eks/core";
import { createScheduler, silentLogger } from "@ondemand-eks/runtime";
import { exitFor } from "../exit.js";
import type { CliIo } from "../io.js";
import { readEvent } from "../read-event.js";
import { type CommandFlags, loadCliConfig } from "../settings.js";

export interface ScheduleFlags extends CommandFlags {
  readonly event: string;
  readonly output: "text" | "json";
}

/** One line for an outcome, e.g. `created: Job buildkite/buildkite-0190...`. */
export function describeOutcome(outcome: ScheduleOutcome): string {
  switch (outcome.outcome) {
    case "created":
      return `created: Job ${outcome.namespace}/${outcome.name}`;
    case "exists":
      return `exists: Job ${outcome.namespace}/${outcome.name} was already there`;
    case "dry-run":
      return `dry-run: Job ${outcome.namespace}/${outcome.name} ${outcome.result === "created" ? "would be created" : "is already there"} (nothing stored)`;
    case "ignored":
      return `not for us: ${outcome.reason}`;
    case "invalid":
    case "failed":
      return `${outcome.outcome}: ${outcome.reason}`;
  }
}

/**
 * `ondemand-eks schedule`: one event through the scheduling path every entry point
 * shares, submitted (or dry-run) to the cluster. Prints the outcome; the exit status is
 * its disposition's.
 */
export async function schedule(flags: ScheduleFlags, io: CliIo): Promise<number> {
  const { scheduler: config } = await loadCliConfig("schedule", flags, io);
  const event = await readEvent(flags.event, io);
  // The outcome is this command's output: no log line repeats it.
  const scheduler = await createScheduler(config, { env: io.env, log: silentLogger });
  try {
    const outcome = await scheduler.schedule(event);
    const disposition = dispositionOf(outcome);
    if (flags.output === "json") {
      const { durationMs: _, ...rest } = outcome;
      io.stdout(`${JSON.stringify(rest)}\n`);
    }
    if (disposition !== "acknowledge" || outcome.outcome === "ignored") {
      io.stderr(`ondemand-eks: ${describeOutcome(outcome)}\n`);
    } else if (flags.output === "text") {
      io.stdout(`${describeOutcome(outcome)}\n`);
    }
    return exitFor(disposition);
  } finally {
    await scheduler.close();
  }
}
