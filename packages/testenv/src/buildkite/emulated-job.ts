import { randomUUID } from "node:crypto";

/**
 * A job held by the Buildkite emulator: what a scheduler created, and what the agent
 * that ran it reported back (its state, exit status and log).
 */

/** A job's states, as Buildkite names the ones an acquiring agent moves it through. */
export type EmulatedJobState = "scheduled" | "accepted" | "running" | "finished";

/** One step in a job's life: when, what happened, and (for requests) the route. */
export interface TimelineEntry {
  readonly at: string;
  readonly event: string;
}

/** What `createJob` takes: the command to run, and optionally a queue and extra env. */
export interface JobSpec {
  /** The step's command, run by the agent's bootstrap (`BUILDKITE_COMMAND`). */
  command: string;
  /** The queue the job targets (`BUILDKITE_AGENT_META_DATA_QUEUE`); `default` by default. */
  queue?: string;
  /** More environment for the job; overrides the emulator's defaults. */
  env?: Record<string, string>;
}

/** A job as the emulator holds it. */
export interface EmulatedJob {
  readonly id: string;
  readonly buildId: string;
  /** The token the agent uses for this job's calls (the acquire answer hands it over). */
  readonly token: string;
  readonly env: Record<string, string>;
  state: EmulatedJobState;
  exitStatus?: number;
  signal?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Log chunks by sequence number, decoded. */
  readonly chunks: Map<number, { offset: number; data: Buffer }>;
  readonly timeline: TimelineEntry[];
}

/** A read-only view of a job: its state, exit status, the log so far, and its timeline. */
export interface JobView {
  readonly id: string;
  readonly state: EmulatedJobState;
  readonly exitStatus: number | undefined;
  readonly log: string;
  readonly timeline: readonly TimelineEntry[];
}

/**
 * A new scheduled job with the environment the agent's bootstrap needs. The bootstrap
 * insists on a `BUILDKITE_REPO`, so it gets a placeholder, and `BUILDKITE_SKIP_CHECKOUT`
 * keeps it from cloning (an empty repository, as older agents took, fails validation).
 *
 * @example
 * const job = newJob({ command: "echo hello" }, "http://127.0.0.1:8080");
 * job.env.BUILDKITE_COMMAND; // "echo hello"
 */
export function newJob(spec: JobSpec, webUrl: string): EmulatedJob {
  const id = randomUUID();
  const buildId = randomUUID();
  const buildUrl = `${webUrl}/emulated/pipeline/builds/1`;
  return {
    id,
    buildId,
    token: `job-${randomUUID()}`,
    env: {
      BUILDKITE: "true",
      CI: "true",
      BUILDKITE_JOB_ID: id,
      BUILDKITE_BUILD_ID: buildId,
      BUILDKITE_BUILD_NUMBER: "1",
      BUILDKITE_BUILD_URL: buildUrl,
      BUILDKITE_BRANCH: "main",
      BUILDKITE_COMMIT: "HEAD",
      BUILDKITE_MESSAGE: "emulated build",
      BUILDKITE_SOURCE: "api",
      BUILDKITE_ORGANIZATION_SLUG: "emulated",
      BUILDKITE_PIPELINE_SLUG: "pipeline",
      BUILDKITE_PIPELINE_ID: randomUUID(),
      BUILDKITE_PIPELINE_DEFAULT_BRANCH: "main",
      BUILDKITE_PIPELINE_PROVIDER: "git",
      // The bootstrap requires a repository, and skipping checkout keeps it off the network.
      BUILDKITE_REPO: "https://buildkite-emulator.invalid/emulated/pipeline.git",
      BUILDKITE_SKIP_CHECKOUT: "true",
      BUILDKITE_STEP_ID: randomUUID(),
      BUILDKITE_LABEL: spec.command,
      BUILDKITE_COMMAND: spec.command,
      BUILDKITE_AGENT_META_DATA_QUEUE: spec.queue ?? "default",
      BUILDKITE_SCRIPT_PATH: spec.command,
      ...spec.env,
    },
    state: "scheduled",
    chunks: new Map(),
    timeline: [{ at: new Date().toISOString(), event: "scheduled" }],
  };
}

/** The log so far: the chunks in sequence order, joined. */
export function jobLog(job: EmulatedJob): string {
  return Buffer.concat(
    [...job.chunks.entries()].sort(([a], [b]) => a - b).map(([, chunk]) => chunk.data),
  ).toString("utf8");
}

/** A snapshot of `job` for tests. */
export function viewOf(job: EmulatedJob): JobView {
  return {
    id: job.id,
    state: job.state,
    exitStatus: job.exitStatus,
    log: jobLog(job),
    timeline: [...job.timeline],
  };
}
