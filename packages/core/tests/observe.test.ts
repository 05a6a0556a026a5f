import { ANNOTATIONS, type JobLike, LABELS, observeJob } from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";
import { uuidOf } from "./helpers/lifecycle.js";

const UUID = uuidOf(7);

/** A Job as the API server returns it after buildJob, with overrides. */
function job(overrides: { annotations?: Record<string, string>; rest?: Partial<JobLike> } = {}) {
  return {
    metadata: {
      name: `buildkite-${UUID}`,
      namespace: "buildkite",
      creationTimestamp: "2026-12-01T10:00:00Z",
      labels: { [LABELS.managedBy]: "ondemand-eks", [LABELS.jobUuid]: UUID, [LABELS.queue]: "q" },
      annotations: { [ANNOTATIONS.queue]: "build/q", ...overrides.annotations },
    },
    ...overrides.rest,
  } satisfies JobLike;
}

describe("observeJob: one of our Jobs, read flat", () => {
  it("reads a fresh Job: running, not suspended, priority 0", () => {
    // Act
    const seen = observeJob(job(), []);
    // Assess
    expect(seen).toEqual({
      name: `buildkite-${UUID}`,
      namespace: "buildkite",
      uuid: UUID,
      queue: "build/q",
      priority: 0,
      createdAt: Date.parse("2026-12-01T10:00:00Z"),
      startedAt: undefined,
      suspended: false,
      stopped: undefined,
      notified: false,
      outcome: "running",
      failure: undefined,
      pods: [],
      events: [],
    });
  });

  it("is undefined for objects that are not ours", () => {
    const foreign = job();
    foreign.metadata.labels = { ...foreign.metadata.labels, [LABELS.managedBy]: "someone-else" };
    expect(observeJob(foreign, [])).toBeUndefined();
    const noUuid = job();
    noUuid.metadata.labels = { ...noUuid.metadata.labels, [LABELS.jobUuid]: "" };
    expect(observeJob(noUuid, [])).toBeUndefined();
    expect(observeJob({}, [])).toBeUndefined();
  });

  it("reads priority, suspension, the stopped tombstone, the notice and the start", () => {
    // Prepare
    const input = job({
      annotations: {
        [ANNOTATIONS.priority]: "-5",
        [ANNOTATIONS.stopped]: "cancelled",
        [ANNOTATIONS.stoppedAt]: "2026-12-01T10:05:00Z",
        [ANNOTATIONS.notified]: "true",
      },
      rest: { spec: { suspend: true }, status: { startTime: new Date("2026-12-01T10:01:00Z") } },
    });
    // Act
    const seen = observeJob(input, [], ["quota exceeded"]);
    // Assess
    expect(seen).toMatchObject({
      priority: -5,
      suspended: true,
      stopped: { reason: "cancelled", at: Date.parse("2026-12-01T10:05:00Z") },
      notified: true,
      startedAt: Date.parse("2026-12-01T10:01:00Z"),
      events: ["quota exceeded"],
    });
  });

  it("reads an invalid priority as 0, and falls back to the queue label", () => {
    const input = job({ annotations: { [ANNOTATIONS.priority]: "high" } });
    delete (input.metadata.annotations as Record<string, string>)[ANNOTATIONS.queue];
    expect(observeJob(input, [])).toMatchObject({ priority: 0, queue: "q" });
  });

  it("reads the outcome and the failure from the conditions", () => {
    const failed = job({
      rest: {
        status: {
          conditions: [
            {
              type: "Failed",
              status: "True",
              reason: "DeadlineExceeded",
              message: "Job was active longer than specified deadline",
            },
          ],
        },
      },
    });
    expect(observeJob(failed, [])).toMatchObject({
      outcome: "failed",
      failure: "DeadlineExceeded: Job was active longer than specified deadline",
    });
    const complete = job({
      rest: { status: { conditions: [{ type: "Complete", status: "True" }] } },
    });
    expect(observeJob(complete, [])?.outcome).toBe("succeeded");
    const notYet = job({ rest: { status: { conditions: [{ type: "Failed", status: "False" }] } } });
    expect(observeJob(notYet, [])?.outcome).toBe("running");
  });
});
