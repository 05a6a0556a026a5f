import { formatIssues, InvalidPodDefinitionError, parseEvent } from "@ondemand-eks/core";
import { checkAccess } from "@ondemand-eks/core/pod-definition";
import { describe, expect, it } from "vitest";
import { loadEvent, podDefinition, scheduledJob } from "./helpers/fixtures.js";

/** The fixture job: organization acme, pipeline my-pipeline, branch main, queue default. */
const job = scheduledJob();

function issuesOf(overrides: Record<string, unknown>): string[] {
  try {
    podDefinition(overrides);
  } catch (error) {
    if (error instanceof InvalidPodDefinitionError) return formatIssues(error.issues).split("\n");
    throw error;
  }
  return [];
}

describe("checkAccess", () => {
  it("lets every job use a definition without access (today's behaviour)", () => {
    expect(checkAccess(podDefinition(), { job, queue: "default" })).toEqual({ allowed: true });
  });

  it.each([
    [{ queues: ["default"] }],
    [{ organizations: ["acme"] }],
    [{ organizations: ["ac*"] }],
    [{ pipelines: ["acme/my-pipeline"] }],
    [{ pipelines: ["acme/*"] }],
    [{ pipelines: ["*/my-*"] }],
    [{ pipelines: ["other/*", "acme/my-pipeline"] }],
    [{ branches: ["main"] }],
    [{ branches: ["**"] }],
    [
      {
        queues: ["default"],
        organizations: ["acme"],
        pipelines: ["acme/my-pipeline"],
        branches: ["main"],
      },
    ],
  ])("allows a job every rule of %j matches", (access) => {
    expect(checkAccess(podDefinition({ access }), { job, queue: "default" })).toEqual({
      allowed: true,
    });
  });

  it.each([
    [
      { pipelines: ["acme/infra-*"] },
      "pipelines",
      'pod definition "default" is not available to pipeline "acme/my-pipeline" (its access allows pipelines: acme/infra-*); ask your platform team to add this pipeline to its access rules',
    ],
    [
      { pipelines: [] },
      "pipelines",
      'pod definition "default" is not available to pipeline "acme/my-pipeline" (its access allows no pipelines: it is opt-in); ask your platform team to add this pipeline to its access rules',
    ],
    [
      { organizations: ["other", "third"] },
      "organizations",
      'pod definition "default" is not available to organization "acme" (its access allows organizations: other, third); ask your platform team to add this organization to its access rules',
    ],
    [
      { queues: ["docker"] },
      "queues",
      'pod definition "default" is not available on queue "default" (its access allows queues: docker); target one of those queues, or ask your platform team to add this queue to its access rules',
    ],
    [
      { branches: ["release/*"] },
      "branches",
      'pod definition "default" is not available on branch "main" (its access allows branches: release/*); run the build from one of those branches, or ask your platform team to add this branch to its access rules',
    ],
    // The first rule that fails is the one named: queues, organizations, pipelines, branches.
    [
      { branches: [], pipelines: [], queues: ["default"] },
      "pipelines",
      'pod definition "default" is not available to pipeline "acme/my-pipeline" (its access allows no pipelines: it is opt-in); ask your platform team to add this pipeline to its access rules',
    ],
  ])(
    "refuses a job that %j does not allow, naming the rule and how to get access",
    (access, rule, reason) => {
      expect(checkAccess(podDefinition({ access }), { job, queue: "default" })).toEqual({
        allowed: false,
        rule,
        reason,
      });
    },
  );

  it("matches * within one path segment and ** across segments", () => {
    // Prepare
    const on = (branch: string) => scheduledJob({ build: { ...job.build, branch } });
    const definition = podDefinition({ access: { branches: ["release/*", "hotfix/**"] } });

    // Act
    const allowed = (branch: string) =>
      checkAccess(definition, { job: on(branch), queue: "default" }).allowed;

    // Assess
    expect(allowed("release/1.2")).toBe(true);
    expect(allowed("release/1.2/rc")).toBe(false);
    expect(allowed("release")).toBe(false);
    expect(allowed("hotfix/a/b")).toBe(true);
    expect(allowed("xrelease/1")).toBe(false);
  });

  it("treats every other character of a pattern literally", () => {
    const definition = podDefinition({ access: { branches: ["v1.2", "a+b", "(x)"] } });
    const allowed = (branch: string) =>
      checkAccess(definition, {
        job: scheduledJob({ build: { ...job.build, branch } }),
        queue: "default",
      }).allowed;
    expect(allowed("v1.2")).toBe(true);
    expect(allowed("v1x2")).toBe(false);
    expect(allowed("a+b")).toBe(true);
    expect(allowed("aab")).toBe(false);
    expect(allowed("(x)")).toBe(true);
  });

  it("lets a webhook job through a pipelines rule: its organization comes from the build's URL", () => {
    // Prepare: a webhook body names no organization object.
    const event = parseEvent(loadEvent("webhook-job-scheduled"));
    if (event.kind !== "scheduled") throw new Error(`expected scheduled, got ${event.kind}`);
    const request = { job: event.job, queue: "default" };

    // Act and assess
    expect(
      checkAccess(podDefinition({ access: { pipelines: ["acme/my-pipeline"] } }), request),
    ).toEqual({
      allowed: true,
    });
    expect(checkAccess(podDefinition({ access: { organizations: ["acme"] } }), request)).toEqual({
      allowed: true,
    });
    expect(
      checkAccess(podDefinition({ access: { pipelines: ["other/my-pipeline"] } }), request).allowed,
    ).toBe(false);
  });

  it("fails closed when the event does not say what a rule needs", () => {
    // Prepare
    const noOrganization = scheduledJob({ organization: { slug: undefined, uuid: undefined } });
    const noBranch = scheduledJob({ build: { ...job.build, branch: undefined } });

    // Act and assess
    expect(
      checkAccess(podDefinition({ access: { pipelines: ["*/*"] } }), {
        job: noOrganization,
        queue: "default",
      }),
    ).toEqual({
      allowed: false,
      rule: "pipelines",
      reason:
        'pod definition "default" is not available to a job whose event names no organization (its access allows pipelines: */*); ask your platform team to add this pipeline to its access rules',
    });
    expect(
      checkAccess(podDefinition({ access: { organizations: ["*"] } }), {
        job: noOrganization,
        queue: "default",
      }).allowed,
    ).toBe(false);
    expect(
      checkAccess(podDefinition({ access: { branches: ["**"] } }), {
        job: noBranch,
        queue: "default",
      }),
    ).toMatchObject({ allowed: false, rule: "branches" });
  });

  it("quotes untrusted event text, so a reason stays one line", () => {
    const branch = 'evil"\nINJECTED';
    const result = checkAccess(podDefinition({ access: { branches: ["main"] } }), {
      job: scheduledJob({ build: { ...job.build, branch } }),
      queue: "default",
    });
    expect(result.allowed).toBe(false);
    if (!result.allowed) {
      expect(result.reason).not.toContain("\n");
      expect(result.reason).toContain(JSON.stringify(branch));
    }
  });
});

const PIPELINE_PATTERN =
  "expected <organization>/<pipeline>, slugs or patterns such as acme/infra-*";

describe("the access section", () => {
  it.each([
    [{ pipelines: ["acme"] }, `access.pipelines[0]: ${PIPELINE_PATTERN}`],
    [{ pipelines: ["acme/a/b"] }, `access.pipelines[0]: ${PIPELINE_PATTERN}`],
    [
      { organizations: ["Acme"] },
      "access.organizations[0]: expected an organization slug or pattern: lower-case letters, digits, hyphens and * wildcards",
    ],
    [
      { branches: [""] },
      "access.branches[0]: expected a branch name or pattern (no spaces or control characters)",
    ],
    [{ queues: ["a b"] }, "access.queues[0]: expected a queue name without spaces, commas or ="],
    [{ teams: ["x"] }, 'access: unknown field "teams"'],
  ])("refuses a malformed rule %j", (access, issue) => {
    expect(issuesOf({ access })).toEqual([issue]);
  });

  it("is refused on a long-polling definition, whose agents take any job on their queue", () => {
    expect(
      issuesOf({
        mode: "long-polling",
        longPolling: { queue: "linux" },
        access: { pipelines: ["acme/*"] },
      }),
    ).toEqual([
      'access: cannot be enforced for mode "long-polling": its agents take every job on queue "linux"; restrict who may target that queue in Buildkite instead',
    ]);
  });

  it("is kept on the definition, as written", () => {
    const access = { organizations: ["acme"], pipelines: ["acme/*"] };
    expect(podDefinition({ access }).access).toEqual(access);
    expect(podDefinition().access).toBeUndefined();
    // null clears a parent's rules under extends; standing alone it is no rule at all.
    expect(podDefinition({ access: null }).access).toBeUndefined();
    expect(podDefinition({ access: { queues: null, branches: ["main"] } }).access).toEqual({
      branches: ["main"],
    });
  });
});
