import { randomUUID } from "node:crypto";
import { queueOf } from "./matching.js";

/**
 * A job held by the Buildkite emulator: what a scheduler created, who reserved or ran
 * it, and what the agent that ran it reported back (its state, exit status and log).
 */

/**
 * A job's states, as Buildkite names them: `reserved` while a stack's reservation
 * lasts, `assigned` once a ping offered it to an agent, `canceling` while a cancelled
 * job's agent winds it down.
 */
export type EmulatedJobState =
  | "scheduled"
  | "reserved"
  | "assigned"
  | "accepted"
  | "running"
  | "canceling"
  | "canceled"
  | "finished";

/** One step in a job's life: when (ISO 8601 with milliseconds), what, and details. */
export interface TimelineEntry {
  readonly at: string;
  readonly event: string;
  /** More about the event: a delivery's target and result, a stack's error detail. */
  readonly detail?: string;
}

/** What `createJob` takes: the command, where it may run, and how the build looks. */
export interface JobSpec {
  /** The step's command, run by the agent's bootstrap (`BUILDKITE_COMMAND`). */
  command: string;
  /** The queue the job targets; adds `queue=<queue>` to the rules unless they have one. */
  queue?: string;
  /** `key=value` agent query rules; `*` in a value is a wildcard. Default `queue=default`. */
  agentQueryRules?: readonly string[];
  /** Higher runs first; 0 by default. */
  priority?: number;
  /** The step's label (`BUILDKITE_LABEL`); the command by default. */
  label?: string;
  /** The step's key (`BUILDKITE_STEP_KEY`). */
  stepKey?: string;
  /** `BUILDKITE_PIPELINE_SLUG`; `pipeline` by default. */
  pipelineSlug?: string;
  /** `BUILDKITE_ORGANIZATION_SLUG`; the emulator's organization by default. */
  organizationSlug?: string;
  /** More environment for the job; overrides everything above. */
  env?: Record<string, string>;
}

/** A job as the emulator holds it. */
export interface EmulatedJob {
  readonly id: string;
  /** Creation order, for stable listing and cursors. */
  readonly sequence: number;
  /** The token the agent uses for this job's calls (the accept answer hands it over). */
  readonly token: string;
  readonly env: Record<string, string>;
  readonly agentQueryRules: readonly string[];
  readonly priority: number;
  readonly scheduledAt: Date;
  /** The stored state; a live reservation shows as `reserved` (see `stateOf`). */
  state: Exclude<EmulatedJobState, "reserved">;
  reservation?: { stackKey: string; expiresAt: number };
  /** The access token of the agent that was offered or took the job. */
  agentToken?: string;
  agentName?: string;
  exitStatus?: number;
  signalReason?: string;
  /** Log chunks by sequence number, decoded. */
  readonly chunks: Map<number, { offset: number; data: Buffer }>;
  readonly timeline: TimelineEntry[];
}

/** A read-only view of a job: its state, exit status, log, timeline and routing. */
export interface JobView {
  readonly id: string;
  readonly state: EmulatedJobState;
  readonly exitStatus: number | undefined;
  readonly log: string;
  readonly timeline: readonly TimelineEntry[];
  readonly agentQueryRules: readonly string[];
  readonly queue: string;
  readonly priority: number;
  /** The name of the agent that was offered or took the job. */
  readonly agent: string | undefined;
  readonly env: Readonly<Record<string, string>>;
}

/** What `newJob` needs besides the spec. */
export interface NewJobContext {
  readonly webUrl: string;
  readonly organizationSlug: string;
  readonly sequence: number;
  readonly now: Date;
}

/** The rules a spec asks for: its own, plus `queue=<queue>` when it names a queue. */
function rulesOf(spec: JobSpec): string[] {
  const rules = [...(spec.agentQueryRules ?? [])];
  const hasQueue = rules.some((rule) => rule.startsWith("queue="));
  if (spec.queue !== undefined && !hasQueue) rules.unshift(`queue=${spec.queue}`);
  return spec.agentQueryRules === undefined && spec.queue === undefined ? ["queue=default"] : rules;
}

/** `BUILDKITE_AGENT_META_DATA_<KEY>` for each rule, as Buildkite sets them on a job. */
function metaDataEnv(rules: readonly string[]): Record<string, string> {
  const env: Record<string, string> = { BUILDKITE_AGENT_META_DATA_QUEUE: queueOf(rules) };
  for (const rule of rules) {
    const [key = "", ...value] = rule.split("=");
    env[`BUILDKITE_AGENT_META_DATA_${key.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`] =
      value.join("=");
  }
  return env;
}

/**
 * A new scheduled job with the environment the agent's bootstrap needs. The bootstrap
 * insists on a `BUILDKITE_REPO`, so it gets a placeholder, and `BUILDKITE_SKIP_CHECKOUT`
 * keeps it from cloning (an empty repository, as older agents took, fails validation).
 *
 * @example
 * const job = newJob({ command: "echo hello", queue: "linux" }, context);
 * job.env.BUILDKITE_COMMAND; // "echo hello"
 * job.agentQueryRules; // ["queue=linux"]
 */
export function newJob(spec: JobSpec, context: NewJobContext): EmulatedJob {
  const id = randomUUID();
  const organization = spec.organizationSlug ?? context.organizationSlug;
  const pipeline = spec.pipelineSlug ?? "pipeline";
  const rules = rulesOf(spec);
  return {
    id,
    sequence: context.sequence,
    token: `job-${randomUUID()}`,
    env: {
      BUILDKITE: "true",
      CI: "true",
      BUILDKITE_JOB_ID: id,
      BUILDKITE_BUILD_ID: randomUUID(),
      BUILDKITE_BUILD_NUMBER: "1",
      BUILDKITE_BUILD_URL: `${context.webUrl}/${organization}/${pipeline}/builds/1`,
      BUILDKITE_BRANCH: "main",
      BUILDKITE_COMMIT: "HEAD",
      BUILDKITE_MESSAGE: "emulated build",
      BUILDKITE_SOURCE: "api",
      BUILDKITE_ORGANIZATION_SLUG: organization,
      BUILDKITE_ORGANIZATION_ID: randomUUID(),
      BUILDKITE_PIPELINE_SLUG: pipeline,
      BUILDKITE_PIPELINE_ID: randomUUID(),
      BUILDKITE_PIPELINE_DEFAULT_BRANCH: "main",
      BUILDKITE_PIPELINE_PROVIDER: "git",
      // The bootstrap requires a repository, and skipping checkout keeps it off the network.
      BUILDKITE_REPO: `https://buildkite-emulator.invalid/${organization}/${pipeline}.git`,
      BUILDKITE_SKIP_CHECKOUT: "true",
      BUILDKITE_STEP_ID: randomUUID(),
      ...(spec.stepKey === undefined ? {} : { BUILDKITE_STEP_KEY: spec.stepKey }),
      BUILDKITE_LABEL: spec.label ?? spec.command,
      BUILDKITE_COMMAND: spec.command,
      ...metaDataEnv(rules),
      BUILDKITE_SCRIPT_PATH: spec.command,
      ...spec.env,
    },
    agentQueryRules: rules,
    priority: spec.priority ?? 0,
    scheduledAt: context.now,
    state: "scheduled",
    chunks: new Map(),
    timeline: [{ at: context.now.toISOString(), event: "scheduled" }],
  };
}

/** The job's state at `now`: a stored `scheduled` with a live reservation is `reserved`. */
export function stateOf(job: EmulatedJob, now: number): EmulatedJobState {
  const reserved = job.reservation !== undefined && job.reservation.expiresAt > now;
  return job.state === "scheduled" && reserved ? "reserved" : job.state;
}

/** True once the job can never run again. */
export function isTerminal(job: EmulatedJob): boolean {
  return job.state === "finished" || job.state === "canceled";
}

/** The log so far: the chunks in sequence order, joined. */
export function jobLog(job: EmulatedJob): string {
  return Buffer.concat(
    [...job.chunks.entries()].sort(([a], [b]) => a - b).map(([, chunk]) => chunk.data),
  ).toString("utf8");
}

/** A snapshot of `job` at `now`, for tests and the control API. */
export function viewOf(job: EmulatedJob, now: number): JobView {
  return {
    id: job.id,
    state: stateOf(job, now),
    exitStatus: job.exitStatus,
    log: jobLog(job),
    timeline: [...job.timeline],
    agentQueryRules: [...job.agentQueryRules],
    queue: queueOf(job.agentQueryRules),
    priority: job.priority,
    agent: job.agentName,
    env: { ...job.env },
  };
}
