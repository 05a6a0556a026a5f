/**
 * Who may use a pod definition: its `access` rules against the job that asks for it.
 * The job's choice of definition (`pod=<name>`) is untrusted input, like everything
 * else in the event; the rules are the platform team's.
 */
import type { ScheduledJob } from "../events/types.js";
import type { PodAccess, PodDefinition } from "./schema.js";

/** The job that asks, and the served queue it was routed to. */
export interface AccessRequest {
  readonly job: ScheduledJob;
  readonly queue: string;
}

/** An access rule's name: a key of the definition's `access`. */
export type AccessRule = keyof PodAccess;

/** Whether a job may use a definition; when not, which rule refused it and why. */
export type AccessDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly rule: AccessRule; readonly reason: string };

/**
 * `*` matches any run of characters but `/`; `**` any run at all; everything else is
 * literal. The whole value must match.
 */
function globRegExp(pattern: string): RegExp {
  const source = pattern
    .split("**")
    .map((part) =>
      part
        .split("*")
        .map((literal) => literal.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
        .join("[^/]*"),
    )
    .join(".*");
  return new RegExp(`^${source}$`, "su");
}

function matchesAny(patterns: readonly string[], value: string): boolean {
  return patterns.some((pattern) => globRegExp(pattern).test(value));
}

interface RuleCheck {
  readonly rule: AccessRule;
  /** The job's value for the rule, or undefined when the event does not carry it. */
  readonly value: string | undefined;
  /** How the refusal names the job: `to pipeline "acme/web"`. */
  readonly subject: string;
  /** What the job's author can do, before asking the platform team. */
  readonly remedy?: string;
  /** The singular the advice uses: "add this pipeline". */
  readonly noun: string;
}

function ruleChecks({ job, queue }: AccessRequest): RuleCheck[] {
  const organization = job.organization.slug;
  const pipeline = organization === undefined ? undefined : `${organization}/${job.pipeline.slug}`;
  const branch = job.build.branch;
  return [
    {
      rule: "queues",
      value: queue,
      subject: `on queue ${JSON.stringify(queue)}`,
      remedy: "target one of those queues",
      noun: "queue",
    },
    {
      rule: "organizations",
      value: organization,
      subject: `to organization ${JSON.stringify(organization)}`,
      noun: "organization",
    },
    {
      rule: "pipelines",
      value: pipeline,
      subject: `to pipeline ${JSON.stringify(pipeline)}`,
      noun: "pipeline",
    },
    {
      rule: "branches",
      value: branch,
      subject: `on branch ${JSON.stringify(branch)}`,
      remedy: "run the build from one of those branches",
      noun: "branch",
    },
  ];
}

/** The words for a job whose event lacks what a rule needs. */
const MISSING: Readonly<Record<AccessRule, string>> = {
  queues: "to a job without a queue",
  organizations: "to a job whose event names no organization",
  pipelines: "to a job whose event names no organization",
  branches: "to a job whose event names no branch",
};

/**
 * Whether `job` may use `definition`. Every rule its `access` gives must match (a
 * definition without `access` is for every job on a served queue); an empty list allows
 * nobody. A job whose event lacks what a rule needs (no organization, no branch) is
 * refused by that rule. The first rule that refuses, in the order queues,
 * organizations, pipelines, branches, is named with how to get access; event text in
 * the reason is quoted, so it stays one line.
 *
 * @example
 * ```ts
 * const decision = checkAccess(definition, { job, queue: route.queue });
 * if (!decision.allowed) return { outcome: "invalid", reason: decision.reason };
 * ```
 */
export function checkAccess(definition: PodDefinition, request: AccessRequest): AccessDecision {
  const access = definition.access;
  if (access === undefined) return { allowed: true };
  for (const check of ruleChecks(request)) {
    const patterns = access[check.rule];
    if (patterns === undefined) continue;
    if (check.value !== undefined && matchesAny(patterns, check.value)) continue;
    const subject = check.value === undefined ? MISSING[check.rule] : check.subject;
    const allows =
      patterns.length === 0
        ? `its access allows no ${check.rule}: it is opt-in`
        : `its access allows ${check.rule}: ${patterns.join(", ")}`;
    const ask = `ask your platform team to add this ${check.noun} to its access rules`;
    return {
      allowed: false,
      rule: check.rule,
      reason: `pod definition "${definition.name}" is not available ${subject} (${allows}); ${
        check.remedy ? `${check.remedy}, or ${ask}` : ask
      }`,
    };
  }
  return { allowed: true };
}
