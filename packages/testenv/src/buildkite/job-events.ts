import { randomUUID } from "node:crypto";
import type { EmulatedJob } from "./emulated-job.js";

/**
 * The "Job Scheduled" events Buildkite sends, built from an emulated job's env so that
 * slugs, build number, branch and rules agree with what the agent later runs: the
 * webhook body (`job.scheduled`, REST job with `id`) and the EventBridge event (partner
 * event source, `detail.job.uuid`). Field names follow Buildkite's docs (see the
 * project's reference, sections 1 and 2).
 */

/** Buildkite's GraphQL id: base64 of `<Type>---<uuid>`. */
export function graphqlId(type: string, uuid: string): string {
  return Buffer.from(`${type}---${uuid}`).toString("base64");
}

/** EventBridge detail timestamps look like `2026-11-28 10:01:14 UTC`. */
function eventBridgeTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** The build, pipeline and organization facts of a job, read from its env. */
function factsOf(job: EmulatedJob) {
  const env = job.env;
  return {
    organization: {
      uuid: env.BUILDKITE_ORGANIZATION_ID ?? "",
      slug: env.BUILDKITE_ORGANIZATION_SLUG ?? "",
    },
    pipeline: {
      uuid: env.BUILDKITE_PIPELINE_ID ?? "",
      slug: env.BUILDKITE_PIPELINE_SLUG ?? "",
      repo: env.BUILDKITE_REPO ?? "",
    },
    build: {
      uuid: env.BUILDKITE_BUILD_ID ?? "",
      number: Number(env.BUILDKITE_BUILD_NUMBER ?? 1),
      branch: env.BUILDKITE_BRANCH ?? "",
      commit: env.BUILDKITE_COMMIT ?? "",
      message: env.BUILDKITE_MESSAGE ?? "",
      source: env.BUILDKITE_SOURCE ?? "api",
      url: env.BUILDKITE_BUILD_URL ?? "",
    },
    label: env.BUILDKITE_LABEL ?? "",
    stepKey: env.BUILDKITE_STEP_KEY ?? null,
    command: env.BUILDKITE_COMMAND ?? "",
  };
}

/**
 * The body of Buildkite's `job.scheduled` webhook for `job`.
 *
 * @example
 * const body = webhookBody(job);
 * body.job.id === job.id; // true; body.event === "job.scheduled"
 */
export function webhookBody(job: EmulatedJob) {
  const facts = factsOf(job);
  return {
    event: "job.scheduled",
    job: {
      id: job.id,
      graphql_id: graphqlId("Job", job.id),
      type: "script",
      name: facts.label,
      step_key: facts.stepKey,
      command: facts.command,
      agent_query_rules: [...job.agentQueryRules],
      state: "scheduled",
      web_url: `${facts.build.url}#${job.id}`,
      created_at: job.scheduledAt.toISOString(),
      scheduled_at: job.scheduledAt.toISOString(),
      runnable_at: job.scheduledAt.toISOString(),
      started_at: null,
      finished_at: null,
      exit_status: null,
    },
    build: {
      id: facts.build.uuid,
      graphql_id: graphqlId("Build", facts.build.uuid),
      number: facts.build.number,
      state: "running",
      branch: facts.build.branch,
      commit: facts.build.commit,
      message: facts.build.message,
      source: facts.build.source,
      web_url: facts.build.url,
    },
    pipeline: {
      id: facts.pipeline.uuid,
      graphql_id: graphqlId("Pipeline", facts.pipeline.uuid),
      slug: facts.pipeline.slug,
      name: facts.pipeline.slug,
      repository: facts.pipeline.repo,
    },
    sender: { id: randomUUID(), name: "Buildkite emulator" },
  };
}

/** Where an EventBridge event claims to come from. */
export interface EventBridgeOrigin {
  /** The AWS account of the partner event bus; `123456789012` by default. */
  readonly account?: string;
  /** `us-east-1` by default. */
  readonly region?: string;
  /** The last part of `aws.partner/buildkite.com/<org>/<id>`; a fixed UUID by default. */
  readonly eventSourceId?: string;
}

/** The emulator's event source id when a target names none. */
const DEFAULT_EVENT_SOURCE_ID = "0190a3bf-0000-4000-8000-000000000000";

/**
 * The whole EventBridge "Job Scheduled" event for `job`, at `now`.
 *
 * @example
 * const event = eventBridgeEvent(job, {}, new Date());
 * event["detail-type"]; // "Job Scheduled"; event.detail.job.uuid === job.id
 */
export function eventBridgeEvent(job: EmulatedJob, origin: EventBridgeOrigin, now: Date) {
  const facts = factsOf(job);
  const sourceId = origin.eventSourceId ?? DEFAULT_EVENT_SOURCE_ID;
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Job Scheduled",
    source: `aws.partner/buildkite.com/${facts.organization.slug}/${sourceId}`,
    account: origin.account ?? "123456789012",
    time: `${now.toISOString().slice(0, 19)}Z`,
    region: origin.region ?? "us-east-1",
    resources: [] as string[],
    detail: {
      version: 1,
      job: {
        uuid: job.id,
        graphql_id: graphqlId("Job", job.id),
        type: "script",
        label: facts.label,
        step_key: facts.stepKey,
        command: facts.command,
        agent_query_rules: [...job.agentQueryRules],
        exit_status: null,
        passed: false,
        soft_failed: false,
        state: "scheduled",
        runnable_at: eventBridgeTime(job.scheduledAt),
        started_at: null,
        finished_at: null,
        unblocked_by: null,
      },
      build: {
        uuid: facts.build.uuid,
        graphql_id: graphqlId("Build", facts.build.uuid),
        number: facts.build.number,
        commit: facts.build.commit,
        message: facts.build.message,
        branch: facts.build.branch,
        state: "started",
        source: facts.build.source,
      },
      pipeline: {
        uuid: facts.pipeline.uuid,
        graphql_id: graphqlId("Pipeline", facts.pipeline.uuid),
        slug: facts.pipeline.slug,
        repo: facts.pipeline.repo,
      },
      organization: {
        uuid: facts.organization.uuid,
        graphql_id: graphqlId("Organization", facts.organization.uuid),
        slug: facts.organization.slug,
      },
    },
  };
}

/** A "Job Scheduled" event as EventBridge targets receive it. */
export type JobScheduledEvent = ReturnType<typeof eventBridgeEvent>;
