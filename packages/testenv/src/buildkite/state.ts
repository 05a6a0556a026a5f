import type { EmulatedJob } from "./emulated-job.js";

/**
 * What the Buildkite emulator's APIs share: the jobs, the registered agents and stacks,
 * the clock, and the organization the emulator pretends to be.
 */

/** An agent registered with `POST register`. */
export interface EmulatedAgent {
  readonly id: string;
  readonly name: string;
  readonly accessToken: string;
  /** `key=value` tags (`--tags`), which the agent sends as `meta_data`. */
  readonly tags: readonly string[];
  /** Acquire-job agents, and agents done with their one job, get no jobs from pings. */
  ignoreInDispatches: boolean;
  connected: boolean;
}

/** A stack registered with the Stacks API's `POST stacks/register`. */
export interface EmulatedStack {
  readonly id: string;
  readonly key: string;
  readonly type: string;
  readonly queueKey: string;
  readonly metadata: Record<string, unknown>;
  state: "connected" | "disconnected";
  lastConnectedOn: string;
}

/** The emulator's identity, as the token and metrics calls tell it. */
export interface Organization {
  readonly slug: string;
  readonly uuid: string;
  readonly clusterUuid: string;
  readonly clusterName: string;
}

export interface EmulatorState {
  readonly jobs: Map<string, EmulatedJob>;
  /** Registered agents by access token. */
  readonly agents: Map<string, EmulatedAgent>;
  readonly stacks: Map<string, EmulatedStack>;
  /** Cluster queue ids by queue key, for the Stacks API's `cluster_queue`. */
  readonly clusterQueues: Map<string, string>;
  /** Keys of the cluster queues whose dispatch is paused (`pauseQueue`). */
  readonly pausedQueues: Set<string>;
  /** Build meta-data (`buildkite-agent meta-data set/get`), one store for all builds. */
  readonly metaData: Map<string, string>;
  readonly organization: Organization;
  /** The agent registration token. */
  readonly agentToken: string;
  /** The cluster agent token the Stacks API takes (and `register` too). */
  readonly clusterToken: string;
  /** Milliseconds since the epoch; `Date.now` unless a test injects a clock. */
  readonly now: () => number;
  /** `http://127.0.0.1:<port>`, known once the server listens. */
  origin: string;
}

/** The clock's time as ISO 8601 with milliseconds. */
export function isoNow(state: EmulatorState): string {
  return new Date(state.now()).toISOString();
}

/**
 * Adds `event` (and an optional detail) to the job's timeline, stamped with the clock.
 *
 * @example
 * mark(state, job, "running"); // { at: "2026-08-21T09:38:22.123Z", event: "running" }
 */
export function mark(state: EmulatorState, job: EmulatedJob, event: string, detail?: string) {
  job.timeline.push({ at: isoNow(state), event, ...(detail === undefined ? {} : { detail }) });
}

/** The job held by an agent right now (assigned, accepted, running or canceling). */
export function currentJobOf(state: EmulatorState, agent: EmulatedAgent): EmulatedJob | undefined {
  const holding = new Set(["assigned", "accepted", "running", "canceling"]);
  return [...state.jobs.values()].find(
    (job) => job.agentToken === agent.accessToken && holding.has(job.state),
  );
}
