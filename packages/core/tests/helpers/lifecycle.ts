import type { ObservedJob, PassInput, PassLimits, PodLike } from "@ondemand-eks/core";

export const NOW = Date.parse("2026-12-01T10:00:00Z");

export const LIMITS: PassLimits = {
  graceMs: 30_000,
  pendingTimeoutMs: 900_000,
  emptyJobGraceMs: 30_000,
  stoppedRetentionMs: 600_000,
};

/** A uuid whose last digits are `n`. */
export const uuidOf = (n: number) => `0190a3c2-7d1e-4c55-9a7b-${n.toString(16).padStart(12, "0")}`;

/** A running, unsuspended Job of queue `default`, made a minute ago, resumed 10 s ago (no pod yet), with overrides. */
export function observed(overrides: Partial<ObservedJob> = {}): ObservedJob {
  const uuid = overrides.uuid ?? uuidOf(1);
  return {
    name: `buildkite-${uuid}`,
    namespace: "buildkite",
    uuid,
    queue: "default",
    priority: 0,
    createdAt: NOW - 60_000,
    startedAt: NOW - 10_000,
    suspended: false,
    stopped: undefined,
    notified: false,
    outcome: "running",
    failure: undefined,
    pods: [],
    events: [],
    ...overrides,
  };
}

/** A pass over `jobs` at {@link NOW} serving `default`, each job in `state`, with overrides. */
export function pass(
  jobs: readonly ObservedJob[],
  state: string | undefined,
  overrides: Partial<PassInput> = {},
): PassInput {
  return {
    now: NOW,
    queues: ["default"],
    jobs,
    states: state === undefined ? undefined : new Map(jobs.map((j) => [j.uuid, state])),
    listings: new Map(),
    limits: LIMITS,
    ...overrides,
  };
}

/** A pod in `phase`, started a minute ago, whose containers are as given. */
export function pod(
  phase: string,
  containerStatuses: NonNullable<PodLike["status"]>["containerStatuses"] = [],
): PodLike {
  return { status: { phase, startTime: new Date(NOW - 60_000), containerStatuses } };
}
