/**
 * What the scheduling path records for the lifecycle controller's admission: the job's
 * priority (from every event form, into an annotation) and, under a cap, a suspended Job.
 */
import { ANNOTATIONS, buildJob, parseEvent, resolveSettings } from "@ondemand-eks/core";
import { loadSettings, SCHEDULER_SETTINGS, schedulerSettingsFrom } from "@ondemand-eks/core/config";
import { describe, expect, it } from "vitest";
import { loadEvent, podDefinition, scheduledJob, settings } from "./helpers/fixtures.js";

/** A fixture with `patch` applied to its job object. */
function withJob(name: string, patch: Record<string, unknown>, path: "detail" | "root"): unknown {
  const event = loadEvent(name) as Record<string, { job: Record<string, unknown> }>;
  const holder =
    path === "detail" ? event.detail : (event as unknown as { job: Record<string, unknown> });
  if (!holder) throw new Error(`${name} has no ${path} job`);
  Object.assign(holder.job, patch);
  return event;
}

const priorityOf = (input: unknown, form?: "webhook") => {
  const event = parseEvent(input, form ? { form } : undefined);
  return event.kind === "scheduled" ? event.job.priority : "not scheduled";
};

describe("priority: read from every event form", () => {
  it("reads EventBridge's integer and the webhook's { number }", () => {
    expect(priorityOf(withJob("eventbridge-job-scheduled", { priority: 5 }, "detail"))).toBe(5);
    expect(
      priorityOf(withJob("webhook-job-scheduled", { priority: { number: -2 } }, "root"), "webhook"),
    ).toBe(-2);
  });

  it("is undefined when absent, and an odd shape never rejects the event", () => {
    expect(priorityOf(loadEvent("eventbridge-job-scheduled"))).toBeUndefined();
    expect(
      priorityOf(withJob("eventbridge-job-scheduled", { priority: "high" }, "detail")),
    ).toBeUndefined();
    expect(
      priorityOf(withJob("eventbridge-job-scheduled", { priority: 1.5 }, "detail")),
    ).toBeUndefined();
  });
});

describe("buildJob: what admission needs", () => {
  it("annotates the priority when known, as a decimal, and only then", () => {
    const definition = podDefinition();
    const known = buildJob({
      job: scheduledJob({ priority: -3 }),
      queue: "default",
      definition,
      settings: settings(),
    });
    const unknown = buildJob({
      job: scheduledJob(),
      queue: "default",
      definition,
      settings: settings(),
    });
    expect(known.metadata.annotations[ANNOTATIONS.priority]).toBe("-3");
    expect(unknown.metadata.annotations).not.toHaveProperty(ANNOTATIONS.priority);
  });

  it("creates the Job suspended when either cap is set, and leaves suspend out otherwise", () => {
    const build = (overrides: Parameters<typeof resolveSettings>[0]) =>
      buildJob({
        job: scheduledJob(),
        queue: "default",
        definition: podDefinition(),
        settings: settings(overrides),
      }).spec;
    expect(build({ maxInFlight: 4 }).suspend).toBe(true);
    expect(build({ maxInFlightTotal: 10 }).suspend).toBe(true);
    expect(build({})).not.toHaveProperty("suspend");
  });

  it("rejects a cap below 1", () => {
    expect(() => resolveSettings({ maxInFlight: 0 })).toThrow(/maxInFlight/);
    expect(() => resolveSettings({ maxInFlightTotal: 0 })).toThrow(/maxInFlightTotal/);
  });
});

describe("settings table: the caps", () => {
  it("reads --max-in-flight and ONDEMAND_EKS_MAX_IN_FLIGHT_TOTAL, in the controller too", () => {
    // Prepare
    const table = Object.values(SCHEDULER_SETTINGS);
    // Act
    const loaded = loadSettings(table, {
      scope: "controller",
      flags: { maxInFlight: "4" },
      env: { ONDEMAND_EKS_MAX_IN_FLIGHT_TOTAL: "20" },
    });
    // Assess
    expect(loaded.issues).toEqual([]);
    expect(schedulerSettingsFrom(loaded.settings)).toMatchObject({
      maxInFlight: 4,
      maxInFlightTotal: 20,
    });
  });

  it("leaves the caps unset by default", () => {
    const loaded = loadSettings(Object.values(SCHEDULER_SETTINGS), { scope: "schedule" });
    const resolved = schedulerSettingsFrom(loaded.settings);
    expect(resolved).not.toHaveProperty("maxInFlight");
    expect(resolved).not.toHaveProperty("maxInFlightTotal");
  });
});
