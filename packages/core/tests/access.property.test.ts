import type { PodDefinition, ScheduledJob } from "@ondemand-eks/core";
import { checkAccess } from "@ondemand-eks/core/pod-definition";
import { arbitraries } from "@ondemand-eks/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { branchName as branch, queueName as queue, slug } from "../src/testing/access.js";
import { podDefinition, scheduledJob } from "./helpers/fixtures.js";

const NUM_RUNS = 300;

/** Untrusted text where the event allows any string. */
const anyText = arbitraries.hostileText({ maxLength: 40, mark: false });

const jobArb = fc.record({
  organization: fc.option(slug, { nil: undefined }),
  pipeline: slug,
  branch: fc.option(fc.oneof(branch, anyText), { nil: undefined }),
  queue,
});
type JobInput = typeof jobArb extends fc.Arbitrary<infer T> ? T : never;

function toJob({ organization, pipeline, branch }: JobInput): ScheduledJob {
  const base = scheduledJob();
  return scheduledJob({
    organization: { slug: organization, uuid: undefined },
    pipeline: { ...base.pipeline, slug: pipeline },
    build: { ...base.build, branch },
  });
}

const accessArb = arbitraries.podAccess();
type AccessInput = typeof accessArb extends fc.Arbitrary<infer T> ? T : never;

const definitionWith = (access: AccessInput | undefined): PodDefinition =>
  podDefinition(access === undefined ? {} : { access });
const allowed = (access: AccessInput | undefined, job: JobInput) =>
  checkAccess(definitionWith(access), { job: toJob(job), queue: job.queue }).allowed;

describe("checkAccess invariants", () => {
  it("no access section, or an empty one: every job may use the definition", () => {
    fc.assert(
      fc.property(jobArb, (job) => {
        expect(allowed(undefined, job)).toBe(true);
        expect(allowed({}, job)).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("rules naming exactly the job's queue, organization, pipeline and branch allow it", () => {
    fc.assert(
      fc.property(
        jobArb.filter((j) => j.organization !== undefined && j.branch !== undefined),
        (job) => {
          // A literal rule: a branch the schema accepts as a pattern, without "*".
          const name = job.branch ?? "";
          fc.pre(/^[^\s\p{Cc}*]+$/u.test(name));
          const access = {
            queues: [job.queue],
            organizations: [job.organization ?? ""],
            pipelines: [`${job.organization}/${job.pipeline}`],
            branches: [name],
          };
          expect(allowed(access, job)).toBe(true);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("an empty list allows nobody, and the refusal names that rule", () => {
    fc.assert(
      fc.property(
        jobArb,
        fc.constantFrom("queues", "organizations", "pipelines", "branches"),
        (job, rule) => {
          const result = checkAccess(definitionWith({ [rule]: [] }), {
            job: toJob(job),
            queue: job.queue,
          });
          expect(result).toMatchObject({ allowed: false, rule });
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("more patterns in a list never take access away; another rule never gives it", () => {
    fc.assert(
      fc.property(
        accessArb,
        jobArb,
        fc.constantFrom("queues", "organizations", "pipelines", "branches"),
        accessArb,
        (access, job, key, extra) => {
          const before = allowed(access, job);
          const more = [...(access[key] ?? []), ...(extra[key] ?? [])];
          if (access[key] !== undefined && before) {
            expect(allowed({ ...access, [key]: more }, job)).toBe(true);
          }
          if (access[key] === undefined && !before && extra[key] !== undefined) {
            expect(allowed({ ...access, [key]: extra[key] }, job)).toBe(false);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("a pipeline pattern never reaches another organization's pipelines", () => {
    fc.assert(
      fc.property(slug, jobArb, (organization, job) => {
        fc.pre(job.organization !== organization);
        expect(allowed({ pipelines: [`${organization}/*`] }, job)).toBe(false);
        expect(allowed({ organizations: [organization] }, job)).toBe(false);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("a refusal is one line that names the definition, the rule and how to get access", () => {
    fc.assert(
      fc.property(accessArb, jobArb, (access, job) => {
        const result = checkAccess(definitionWith(access), { job: toJob(job), queue: job.queue });
        if (result.allowed) return;
        expect(result.reason).not.toMatch(/[\n\r]/);
        expect(result.reason).toContain('pod definition "default"');
        expect(result.reason).toContain(`its access allows`);
        expect(result.reason).toContain(result.rule);
        expect(result.reason).toContain("ask your platform team");
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
