import { type PassAction, planPass } from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";
import { LIMITS, NOW, observed, pass, pod, uuidOf } from "./helpers/lifecycle.js";

/** The actions, each as kind plus its reason and detail when it has them. */
const summary = (actions: readonly PassAction[]) =>
  actions.map((a) => ({
    kind: a.kind,
    ...("reason" in a ? { reason: a.reason } : {}),
    ...("detail" in a ? { detail: a.detail } : {}),
  }));

describe("planPass: failing a job no agent has", () => {
  it("fails a pod that cannot start with startFailureOf's reason", () => {
    // Prepare
    const job = observed({
      pods: [
        pod("Pending", [
          { name: "agent", image: "Acme/CI", state: { waiting: { reason: "InvalidImageName" } } },
        ]),
      ],
    });
    // Act
    const { actions } = planPass(pass([job], "reserved"));
    // Assess
    expect(summary(actions)).toEqual([
      {
        kind: "fail",
        reason: "InvalidImageName",
        detail:
          'container "agent": image "Acme/CI" is not a valid image reference (InvalidImageName); fix the image in the pod definition',
      },
    ]);
  });

  it("fails an out-of-memory pod, saying what to change", () => {
    const job = observed({
      pods: [
        pod("Failed", [
          { name: "agent", state: { terminated: { exitCode: 137, reason: "OOMKilled" } } },
        ]),
      ],
    });
    expect(summary(planPass(pass([job], "scheduled")).actions)).toEqual([
      {
        kind: "fail",
        reason: "PodFailed",
        detail:
          'the pod ended before its agent took the job: container "agent" ran out of memory and was killed (OOMKilled, exit 137); raise its memory limit in the pod definition',
      },
    ]);
  });

  it("fails a Job Kubernetes failed, with its reason", () => {
    const job = observed({
      outcome: "failed",
      failure: "DeadlineExceeded: Job was active longer than specified deadline",
    });
    expect(summary(planPass(pass([job], "scheduled")).actions)).toEqual([
      {
        kind: "fail",
        reason: "PodFailed",
        detail:
          "the Kubernetes Job ended before its agent took the job: the Kubernetes Job failed: DeadlineExceeded: Job was active longer than specified deadline",
      },
    ]);
  });

  it("names the container that failed and the node lost, but not a mere backoff limit", () => {
    const lost = observed({
      outcome: "failed",
      failure: "PodFailurePolicy: node ip-10-0-1-2 was lost",
      pods: [
        pod("Failed", [{ name: "agent", state: { terminated: { exitCode: 1, reason: "Error" } } }]),
      ],
    });
    const backoff = observed({
      uuid: uuidOf(2),
      outcome: "failed",
      failure: "BackoffLimitExceeded: Job has reached the specified backoff limit",
      pods: [
        pod("Failed", [{ name: "agent", state: { terminated: { exitCode: 1, reason: "Error" } } }]),
      ],
    });
    expect(summary(planPass(pass([lost, backoff], "scheduled")).actions)).toEqual([
      {
        kind: "fail",
        reason: "PodFailed",
        detail:
          'the pod ended before its agent took the job: container "agent" exited with status 1 (Error); the Kubernetes Job failed: PodFailurePolicy: node ip-10-0-1-2 was lost',
      },
      {
        kind: "fail",
        reason: "PodFailed",
        detail:
          'the pod ended before its agent took the job: container "agent" exited with status 1 (Error)',
      },
    ]);
  });

  it("fails a Job that got no pod past the grace, quoting the last Kubernetes events", () => {
    // Prepare
    const job = observed({
      startedAt: NOW - 45_000,
      events: [
        "first",
        "Error creating: pods is forbidden: exceeded quota: compute, requested: cpu=4",
        "Error creating: pods is forbidden: exceeded quota: compute, requested: cpu=4",
        'Error creating: serviceaccount "ci" not found',
      ],
    });
    // Act
    const { actions } = planPass(pass([job], "reserved"));
    // Assess
    expect(summary(actions)).toEqual([
      {
        kind: "fail",
        reason: "NoPod",
        detail:
          'Kubernetes made no pod for the Job in 45 s; Kubernetes said: Error creating: pods is forbidden: exceeded quota: compute, requested: cpu=4; Error creating: pods is forbidden: exceeded quota: compute, requested: cpu=4; Error creating: serviceaccount "ci" not found',
      },
    ]);
  });

  it("waits for a pod within the grace, and never fails a suspended Job for having none", () => {
    const young = observed({ startedAt: NOW - 10_000 });
    const suspended = observed({ uuid: uuidOf(2), suspended: true, startedAt: undefined });
    expect(planPass(pass([young, suspended], "scheduled")).actions).toEqual([
      { kind: "resume", job: suspended },
    ]);
  });

  it("does not judge a Job the Job controller has not looked at yet (just resumed, no startTime)", () => {
    // Created suspended an hour ago, resumed a moment ago: its age is not a wait for a pod.
    const resumed = observed({ createdAt: NOW - 3_600_000, startedAt: undefined });
    expect(planPass(pass([resumed], "scheduled")).actions).toEqual([]);
  });

  it("does not fail an agent refused its job (exit 27): Buildkite will say it is over", () => {
    const job = observed({
      pods: [pod("Failed", [{ name: "agent", state: { terminated: { exitCode: 27 } } }])],
    });
    expect(planPass(pass([job], "scheduled")).actions).toEqual([]);
  });
});

describe("planPass: a job an agent owns", () => {
  it("tells the user once about what Kubernetes did, never fails it", () => {
    // Prepare
    const oom = pod("Failed", [
      { name: "agent", state: { terminated: { exitCode: 137, reason: "OOMKilled" } } },
    ]);
    const job = observed({ pods: [oom] });
    // Act
    const first = planPass(pass([job], "running"));
    const again = planPass(pass([{ ...job, notified: true }], "running"));
    // Assess
    expect(summary(first.actions)).toEqual([
      {
        kind: "notify",
        reason: "PodFailed",
        detail:
          'the pod ended while its agent had the job: container "agent" ran out of memory and was killed (OOMKilled, exit 137); raise its memory limit in the pod definition',
      },
    ]);
    expect(again.actions).toEqual([]);
  });

  it("says nothing when the job's own command failed: the agent reports that", () => {
    const job = observed({
      pods: [pod("Failed", [{ name: "agent", state: { terminated: { exitCode: 1 } } }])],
    });
    expect(planPass(pass([job], "running")).actions).toEqual([]);
  });
});

describe("planPass: stopping, holding, deleting, scheduling", () => {
  it("stops a Job whose Buildkite job is over only while its agent never started", () => {
    const cancelled = observed({ pods: [pod("Pending")] });
    const waiting = observed({ uuid: uuidOf(2), suspended: true });
    const exited = observed({
      uuid: uuidOf(3),
      pods: [pod("Failed", [{ name: "agent", state: { terminated: { exitCode: 27 } } }])],
    });
    const stillRunning = observed({ uuid: uuidOf(4), pods: [pod("Running")] });
    // The agent ran the job and its pod exited: Kubernetes marks the Job Complete next.
    const succeeding = observed({ uuid: uuidOf(5), pods: [pod("Succeeded")] });
    const states = new Map([
      [cancelled.uuid, "canceled"],
      [waiting.uuid, "expired"],
      [exited.uuid, "canceled"],
      [stillRunning.uuid, "canceled"],
      [succeeding.uuid, "finished"],
    ]);
    const input = pass([cancelled, waiting, exited, stillRunning, succeeding], undefined, {
      states,
    });
    expect(planPass(input).actions).toEqual([
      { kind: "stop", job: cancelled, reason: "cancelled" },
      { kind: "stop", job: waiting, reason: "finished" },
    ]);
  });

  it("holds an unclaimed Job of a paused queue and resumes none there", () => {
    const active = observed();
    const waiting = observed({ uuid: uuidOf(2), suspended: true });
    const listings = new Map([
      ["default", { paused: true, jobs: [{ uuid: uuidOf(9), priority: 0 }] }],
    ]);
    const plan = planPass(pass([active, waiting], "scheduled", { listings }));
    expect(plan.actions).toEqual([{ kind: "hold", job: active }]);
    expect(plan.counts.get("default")).toEqual({ running: 1, waiting: 1 });
  });

  it("deletes a tombstone past its retention, even without Buildkite, and leaves a young one", () => {
    const old = observed({ stopped: { reason: "finished", at: NOW - LIMITS.stoppedRetentionMs } });
    const young = observed({ uuid: uuidOf(2), stopped: { reason: "finished", at: NOW - 1000 } });
    expect(planPass(pass([old, young], undefined)).actions).toEqual([{ kind: "delete", job: old }]);
  });

  it("schedules listed jobs that have no Job anywhere, once, in unpaused queues", () => {
    const tombstone = observed({ uuid: uuidOf(1), stopped: { reason: "finished", at: NOW } });
    const elsewhere = observed({ uuid: uuidOf(2), queue: "other", namespace: "privileged" });
    const listings = new Map([
      [
        "default",
        {
          paused: false,
          jobs: [1, 2, 3, 3].map((n) => ({ uuid: uuidOf(n), priority: 0 })),
        },
      ],
      ["gpu", { paused: true, jobs: [{ uuid: uuidOf(4), priority: 0 }] }],
    ]);
    const input = pass([tombstone, elsewhere], undefined, { queues: ["default", "gpu"], listings });
    expect(planPass(input).actions).toEqual([
      { kind: "schedule", uuid: uuidOf(3), queue: "default" },
    ]);
  });

  it("resumes by priority (the listing's first), then age, within the caps", () => {
    // Prepare
    const running = observed();
    const old = observed({ uuid: uuidOf(2), suspended: true, createdAt: NOW - 50_000 });
    const young = observed({ uuid: uuidOf(3), suspended: true, createdAt: NOW - 10_000 });
    const urgent = observed({
      uuid: uuidOf(4),
      suspended: true,
      createdAt: NOW - 5_000,
      priority: 0,
    });
    const listings = new Map([
      ["default", { paused: false, jobs: [{ uuid: urgent.uuid, priority: 10 }] }],
    ]);
    const limits = { ...LIMITS, maxInFlight: 3 };
    // Act
    const plan = planPass(pass([running, old, young, urgent], "scheduled", { listings, limits }));
    // Assess
    expect(plan.actions).toEqual([
      { kind: "resume", job: urgent },
      { kind: "resume", job: old },
    ]);
    expect(plan.counts.get("default")).toEqual({ running: 1, waiting: 3 });
  });
});
