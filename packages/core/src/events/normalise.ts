import type { z } from "zod";
import type {
  BuildSchema,
  EventBridgeJobSchema,
  OrganizationSchema,
  PipelineSchema,
  WebhookJobSchema,
} from "./schemas.js";
import type { EventForm, FinishedJob, ScheduledJob } from "./types.js";

type Job = z.output<typeof EventBridgeJobSchema> | z.output<typeof WebhookJobSchema>;

const orUndefined = (value: string | null | undefined): string | undefined => value ?? undefined;

function jobUuid(job: Job): string {
  return "uuid" in job ? job.uuid : job.id;
}

/** A lone UTF-16 surrogate, which `encodeURIComponent` refuses with a `URIError`. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `encodeURIComponent` that never throws: a lone surrogate becomes U+FFFD first. */
const encodePathSegment = (value: string) =>
  encodeURIComponent(value.replace(LONE_SURROGATE, "\uFFFD"));

function buildUrl(
  build: z.output<typeof BuildSchema>,
  pipeline: string,
  organization: string | undefined,
): string | undefined {
  if (build.web_url) return build.web_url;
  if (!organization) return undefined;
  const path = [organization, pipeline].map(encodePathSegment).join("/");
  return `https://buildkite.com/${path}/builds/${build.number}`;
}

/** A Buildkite slug: lower-case letters, digits and hyphens, as Buildkite makes them. */
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/;

/**
 * The organization's slug from a build's web URL, `https://<host>/<org>/<pipeline>/builds/<n>`,
 * when the URL is the build's own: its pipeline segment is the event's pipeline slug and
 * its number the build's. A webhook body names no organization (the EventBridge detail
 * does); without it, `access` rules on organizations and pipelines would refuse every
 * webhook job. The URL is Buildkite's, inside a signed body: no pipeline author writes it.
 *
 * @example
 * organizationFromBuildUrl("https://buildkite.com/acme/web/builds/42", "web", 42); // "acme"
 * organizationFromBuildUrl("https://buildkite.com/acme/other/builds/42", "web", 42); // undefined
 */
export function organizationFromBuildUrl(
  url: string | null | undefined,
  pipeline: string,
  number: number,
): string | undefined {
  // The core runs anywhere (no URL global in its types): the path, taken apart by hand.
  const path = /^https?:\/\/[^/?#]+(\/[^?#]*)(?:[?#].*)?$/.exec(url ?? "")?.[1];
  if (path === undefined) return undefined;
  const [, organization, slug, builds, n, ...rest] = path.split("/");
  if (rest.length > 0 || builds !== "builds" || slug !== pipeline || n !== String(number)) {
    return undefined;
  }
  return organization !== undefined && SLUG.test(organization) ? organization : undefined;
}

/** Turns Buildkite's snake_case job payload into a {@link ScheduledJob}. */
export function toScheduledJob(
  input: {
    job: Job;
    build: z.output<typeof BuildSchema>;
    pipeline: z.output<typeof PipelineSchema>;
    organization?: z.output<typeof OrganizationSchema> | null | undefined;
  },
  form: EventForm,
): ScheduledJob {
  const { job, build, pipeline } = input;
  const organizationSlug =
    orUndefined(input.organization?.slug) ??
    organizationFromBuildUrl(build.web_url, pipeline.slug, build.number);
  return {
    uuid: jobUuid(job),
    agentQueryRules: job.agent_query_rules ?? [],
    label: orUndefined(job.label ?? ("name" in job ? job.name : undefined)),
    stepKey: orUndefined(job.step_key),
    priority: job.priority ?? undefined,
    runnableAt: job.runnable_at ?? job.scheduled_at ?? undefined,
    pipeline: {
      slug: pipeline.slug,
      uuid: orUndefined(pipeline.uuid ?? pipeline.id),
      repository: orUndefined(pipeline.repo ?? pipeline.repository),
    },
    build: {
      number: build.number,
      uuid: orUndefined(build.uuid ?? build.id),
      branch: orUndefined(build.branch),
      commit: orUndefined(build.commit),
      message: orUndefined(build.message),
      url: buildUrl(build, pipeline.slug, organizationSlug),
    },
    organization: { slug: organizationSlug, uuid: orUndefined(input.organization?.uuid) },
    form,
  };
}

/** Turns a finished (or cancelled) job payload into a {@link FinishedJob}. */
export function toFinishedJob(job: Job, form: EventForm): FinishedJob {
  const state = orUndefined(job.state);
  return {
    uuid: jobUuid(job),
    state,
    exitStatus: job.exit_status ?? undefined,
    passed: job.passed ?? undefined,
    canceled: state === "canceled" || state === "canceling",
    form,
  };
}
