import { readFileSync } from "node:fs";
import {
  formatIssues,
  InvalidPodDefinitionError,
  type PodDefinition,
  parseEvent,
  parsePodDefinition,
  resolveSettings,
  type ScheduledJob,
  type SchedulerSettings,
} from "@ondemand-eks/core";

/** A JSON event fixture from `tests/fixtures/events/`, by file name without `.json`. */
export function loadEvent(name: string): unknown {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), "utf8"),
  );
}

/** The scheduled job of the standard EventBridge fixture, with overrides. */
export function scheduledJob(overrides: Partial<ScheduledJob> = {}): ScheduledJob {
  const event = parseEvent(loadEvent("eventbridge-job-scheduled"));
  if (event.kind !== "scheduled") throw new Error("fixture is not a scheduled job");
  return { ...event.job, ...overrides };
}

/**
 * A small one-shot definition, with overrides applied before validation. Untyped, so
 * tests can pass what a file might hold: it validates as `parsePodDefinition` does.
 */
export function podDefinition(overrides: Record<string, unknown> = {}): PodDefinition {
  return parsePodDefinition({
    name: "default",
    agent: { image: "buildkite/agent:3" },
    ...overrides,
  });
}

export function settings(overrides: Parameters<typeof resolveSettings>[0] = {}): SchedulerSettings {
  return resolveSettings(overrides);
}

/** Recursively freezes a value, so any mutation by the code under test throws. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** Every issue parsing `input` as a pod definition gives, as `path: message` lines; none when it is valid. */
export function issuesOf(input: unknown): string[] {
  try {
    parsePodDefinition(input);
  } catch (error) {
    if (error instanceof InvalidPodDefinitionError) return formatIssues(error.issues).split("\n");
    throw error;
  }
  return [];
}
