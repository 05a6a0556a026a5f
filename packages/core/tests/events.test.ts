import {
  InvalidEventError,
  parseEvent,
  type ScheduledJob,
  safeParseEvent,
} from "@ondemand-eks/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadEvent } from "./helpers/fixtures.js";

const UUID = "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70";

function scheduled(name: string): ScheduledJob {
  const event = parseEvent(loadEvent(name));
  if (event.kind !== "scheduled") throw new Error(`${name}: expected scheduled, got ${event.kind}`);
  return event.job;
}

describe("parseEvent: the three forms of Job Scheduled", () => {
  it("normalises a full EventBridge event", () => {
    // Act
    const job = scheduled("eventbridge-job-scheduled");

    // Assess
    expect(job).toEqual({
      uuid: UUID,
      agentQueryRules: ["queue=default", "pod=node-postgres"],
      label: ":node: test",
      stepKey: "test",
      runnableAt: Date.parse("2026-11-28T10:01:14Z"),
      pipeline: {
        slug: "my-pipeline",
        uuid: "0190a3c0-1111-4222-8333-444455556666",
        repository: "git@github.com:acme/app.git",
      },
      build: {
        number: 4312,
        uuid: "0190a3c1-0000-4a8b-8c9d-0e1f2a3b4c5d",
        branch: "main",
        commit: "5a74c0ffee5a74c0ffee5a74c0ffee5a74c0ffee",
        message: "Add the thing",
        url: "https://buildkite.com/acme/my-pipeline/builds/4312",
      },
      organization: { slug: "acme", uuid: "0190a3bf-aaaa-4bbb-8ccc-dddddddddddd" },
      form: "eventbridge",
    });
  });

  it("gives the same job from the detail alone and from a webhook body", () => {
    // Prepare
    const { form: _a, ...fromEventBridge } = scheduled("eventbridge-job-scheduled");
    const { form: _b, ...fromDetail } = scheduled("detail-job-scheduled");
    const { form: formOfWebhook, ...fromWebhook } = scheduled("webhook-job-scheduled");

    // Assess
    expect(fromDetail).toEqual(fromEventBridge);
    expect(formOfWebhook).toBe("webhook");
    // A webhook carries no organization object: its slug comes from the build's URL, and
    // only the uuid is missing; everything else agrees.
    expect(fromWebhook.organization).toEqual({ slug: "acme", uuid: undefined });
    expect({ ...fromWebhook, organization: fromEventBridge.organization }).toEqual(fromEventBridge);
  });

  describe("the organization of a webhook job, from its build's URL", () => {
    const webhook = (webUrl: string | null, slug = "my-pipeline", number = 4312) => {
      const body = loadEvent("webhook-job-scheduled") as {
        build: Record<string, unknown>;
        pipeline: Record<string, unknown>;
      };
      body.build.web_url = webUrl;
      body.build.number = number;
      body.pipeline.slug = slug;
      const event = parseEvent(body);
      if (event.kind !== "scheduled") throw new Error(`expected scheduled, got ${event.kind}`);
      return event.job.organization.slug;
    };

    it("is read only from the build's own URL: its pipeline, its number, nothing after", () => {
      expect(webhook("https://buildkite.com/acme/my-pipeline/builds/4312")).toBe("acme");
      expect(webhook("https://buildkite.com/acme/other-pipeline/builds/4312")).toBeUndefined();
      expect(webhook("https://buildkite.com/acme/my-pipeline/builds/1")).toBeUndefined();
      expect(webhook("https://buildkite.com/acme/my-pipeline/builds/4312/x")).toBeUndefined();
      expect(webhook("https://buildkite.com/Acme!/my-pipeline/builds/4312")).toBeUndefined();
      expect(webhook("not a url")).toBeUndefined();
      expect(webhook(null)).toBeUndefined();
    });

    it("gives back any organization slug a build URL was made from, and never one from another pipeline's", () => {
      const slug = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?$/);
      fc.assert(
        fc.property(
          slug,
          slug,
          slug,
          fc.nat(1_000_000),
          (organization, pipeline, other, number) => {
            const url = `https://buildkite.com/${organization}/${pipeline}/builds/${number}`;
            expect(webhook(url, pipeline, number)).toBe(organization);
            if (other !== pipeline) expect(webhook(url, other, number)).toBeUndefined();
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  it("never carries the job's command", () => {
    const job = scheduled("eventbridge-job-scheduled");
    expect(JSON.stringify(job)).not.toContain("npm test");
  });

  it("honours a form the caller states instead of detecting one", () => {
    const event = parseEvent(loadEvent("detail-job-scheduled"), { form: "eventbridge-detail" });
    expect(event.kind).toBe("scheduled");
    expect(
      errorOf(() => parseEvent(loadEvent("detail-job-scheduled"), { form: "webhook" })),
    ).toEqual({
      name: "InvalidEventError",
      message: "event: required: expected string",
    });
  });

  it("lower-cases an upper-case UUID (Kubernetes names are lower case)", () => {
    const input = loadEvent("detail-job-scheduled") as { job: { uuid: string } };
    input.job.uuid = UUID.toUpperCase();
    expect(scheduledFrom(input).uuid).toBe(UUID);
  });
});

/** The name and exact message of what `fn` throws. */
function errorOf(fn: () => unknown): { name: string; message: string } | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return { name: error.name, message: error.message };
  }
  return undefined;
}

function scheduledFrom(input: unknown): ScheduledJob {
  const event = parseEvent(input);
  if (event.kind !== "scheduled") throw new Error("not scheduled");
  return event.job;
}

describe("parseEvent: finished and cancelled jobs", () => {
  it.each([
    [
      "eventbridge-job-finished",
      { state: "finished", exitStatus: 0, passed: true, canceled: false, form: "eventbridge" },
    ],
    [
      "eventbridge-job-canceled",
      {
        state: "canceled",
        exitStatus: undefined,
        passed: false,
        canceled: true,
        form: "eventbridge",
      },
    ],
    [
      "detail-job-finished",
      {
        state: "finished",
        exitStatus: 0,
        passed: true,
        canceled: false,
        form: "eventbridge-detail",
      },
    ],
    [
      "webhook-job-finished",
      { state: "finished", exitStatus: 1, passed: false, canceled: false, form: "webhook" },
    ],
  ])("%s", (name, expected) => {
    expect(parseEvent(loadEvent(name))).toEqual({
      kind: "finished",
      job: { uuid: UUID, ...expected },
    });
  });
});

describe("parseEvent: events that are not for us", () => {
  it.each([
    ["eventbridge-build-started", 'EventBridge detail-type "Build Started" is not one we act on'],
    ["eventbridge-job-activated", 'EventBridge detail-type "Job Activated" is not one we act on'],
    ["eventbridge-job-scheduled-manual", 'job type "manual" does not run on an agent'],
    ["detail-job-started", "job is already running"],
    ["webhook-ping", 'webhook event "ping" is not one we act on'],
  ])("%s is ignored with its reason", (name, reason) => {
    expect(parseEvent(loadEvent(name))).toEqual({ kind: "ignored", reason });
  });

  it.each([
    [
      {},
      'expected an EventBridge event ("detail-type"), its "detail" ("job"), or a Buildkite webhook body ("event")',
    ],
    [{ agent: 42 }, "job: required: expected object"],
    [{ Job: {}, build: "x" }, "job: required: expected object"],
  ])("still refuses %j instead of ignoring it", (input, message) => {
    expect(errorOf(() => parseEvent(input))).toEqual({
      name: "InvalidEventError",
      message: expect.stringContaining(message),
    });
    expect(errorOf(() => parseEvent({}, { form: "eventbridge-detail" }))).toEqual({
      name: "InvalidEventError",
      message: "job: required: expected object (and 2 more)",
    });
  });

  it("ignores the bare detail of a build or agent event (what InputPath: $.detail sends)", () => {
    const build = (loadEvent("eventbridge-build-started") as { detail: unknown }).detail;
    expect(parseEvent(build)).toEqual({
      kind: "ignored",
      reason: "EventBridge detail of a build event (no job) is not one we act on",
    });
    expect(parseEvent({ version: 1, agent: { uuid: "x", connection_state: "connected" } })).toEqual(
      {
        kind: "ignored",
        reason: "EventBridge detail of an agent event (no job) is not one we act on",
      },
    );
  });
});

describe("parseEvent: malformed input gives one exact error naming the field", () => {
  it.each([
    ["hostile-huge-rules", "detail.job.agent_query_rules: expected at most 256 rules"],
    ["hostile-missing-pipeline", "pipeline: required: expected object"],
    ["hostile-missing-uuid", "detail.job.uuid: required: expected string"],
    ["hostile-rule-no-equals", 'detail.job.agent_query_rules[1]: expected "key=value"'],
    ["hostile-uuid-path", "detail.job.uuid: expected a UUID (8-4-4-4-12 hexadecimal digits)"],
    ["hostile-webhook-uuid-not-id", "job.id: required: expected string"],
    ["hostile-wrong-type-build-number", "detail.build.number: expected number, received string"],
    ["hostile-wrong-type-uuid", "detail.job.uuid: expected string, received number"],
  ])("%s", (name, message) => {
    // Act
    const result = safeParseEvent(loadEvent(name));

    // Assess
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error).toBeInstanceOf(InvalidEventError);
    expect(result.error.code).toBe("INVALID_EVENT");
    expect(result.error.message).toBe(message);
  });

  it.each([
    [null, "expected a JSON object, received null"],
    [[], "expected a JSON object, received array"],
    ["Job Scheduled", "expected a JSON object, received string"],
    [42, "expected a JSON object, received number"],
    [
      { hello: "world" },
      'expected an EventBridge event ("detail-type"), its "detail" ("job"), or a Buildkite webhook body ("event")',
    ],
    [
      { "detail-type": "Job Scheduled", source: "x", detail: "nope" },
      "detail: expected object, received string",
    ],
    [
      { "detail-type": 7, source: "x", detail: {} },
      "detail-type: expected string, received number",
    ],
    [{ "detail-type": "Job Scheduled", source: "x" }, "detail: required"],
  ])("%j", (input, message) => {
    expect(errorOf(() => parseEvent(input))).toEqual({ name: "InvalidEventError", message });
  });

  it("reports every bad field, not only the first", () => {
    const result = safeParseEvent({ job: { uuid: 1 }, build: {}, pipeline: { slug: "" } });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.issues.map((i) => i.path)).toEqual([
      "job.uuid",
      "build.number",
      "pipeline.slug",
    ]);
    expect(result.error.message).toBe("job.uuid: expected string, received number (and 2 more)");
  });
});

describe("parseEvent: hostile but valid input", () => {
  it("ignores __proto__ and constructor keys without polluting any prototype", () => {
    // Prepare: JSON.parse makes "__proto__" an own data key, as an attacker's body would.
    const input = loadEvent("hostile-proto-keys");

    // Act
    const job = scheduledFrom(input);

    // Assess
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.getPrototypeOf(job)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(job.build)).toBe(Object.prototype);
    expect(job.agentQueryRules).toEqual(["queue=default", "__proto__=x"]);
  });

  it("keeps a 300-character unicode branch intact", () => {
    const job = scheduled("hostile-unicode-long-branch");
    expect(job.build.branch?.startsWith("feature/ünïcödé-🚀-")).toBe(true);
    expect([...(job.build.branch ?? "")].length).toBe(308);
    expect(job.label).toBe('"; rm -rf / #');
  });

  it("builds the build URL with encoded slugs, so a slug cannot change the path", () => {
    const job = scheduled("hostile-unicode-long-branch");
    expect(job.build.url).toBe(
      "https://buildkite.com/acme/%C3%9Cmlaut%20Pipeline%2F..%2F..%2Fetc/builds/4312",
    );
  });

  it("builds the build URL from slugs holding a lone surrogate instead of throwing URIError", () => {
    // Prepare: JSON can carry "\ud800"; encodeURIComponent throws on it.
    const detail = {
      job: { uuid: UUID, agent_query_rules: [] },
      build: { number: 1 },
      pipeline: { slug: "p\ud800" },
      organization: { slug: "\udc00acme" },
    };

    // Act
    const event = parseEvent(detail);

    // Assess
    expect(event).toMatchObject({
      kind: "scheduled",
      job: { build: { url: "https://buildkite.com/%EF%BF%BDacme/p%EF%BF%BD/builds/1" } },
    });
  });
});

describe("parseEvent: a job the Stacks API lists as scheduled", () => {
  const listed = (overrides: Record<string, unknown> = {}) => ({
    id: "0190A3C2-7D1E-4C55-9A7B-2F3C4D5E6F70",
    priority: 3,
    agent_query_rules: ["queue=default", "pod=node-postgres"],
    scheduled_at: "2026-12-01T10:00:00Z",
    pipeline: { slug: "web", uuid: "0190a3bf-0000-4000-8000-000000000001" },
    build: { uuid: "0190a3bf-0000-4000-8000-000000000002", number: 42, branch: "main" },
    step: { key: "test" },
    ...overrides,
  });

  it("is one more form of a scheduled job, with the organization the caller knows", () => {
    // Act
    const parsed = parseEvent(listed(), { form: "stacks", organization: { slug: "acme" } });

    // Assess
    expect(parsed).toMatchObject({
      kind: "scheduled",
      job: {
        uuid: "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70",
        agentQueryRules: ["queue=default", "pod=node-postgres"],
        stepKey: "test",
        pipeline: { slug: "web" },
        build: { number: 42, branch: "main", url: "https://buildkite.com/acme/web/builds/42" },
        organization: { slug: "acme" },
        form: "stacks",
      },
    });
  });

  it("names a missing or bad field, as the other forms do", () => {
    expect(() => parseEvent(listed({ id: "not-a-uuid" }), { form: "stacks" })).toThrow(/^id: /);
    expect(() => parseEvent(listed({ build: { number: -1 } }), { form: "stacks" })).toThrow(
      /build\.number/,
    );
  });

  it("keeps every listed job's uuid, rules and build number (any valid job)", () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.array(fc.stringMatching(/^[a-z]{1,8}=[a-z0-9*]{1,8}$/), { maxLength: 5 }),
        fc.nat(1_000_000),
        (id, rules, number) => {
          const parsed = parseEvent(listed({ id, agent_query_rules: rules, build: { number } }), {
            form: "stacks",
          });
          expect(parsed.kind).toBe("scheduled");
          if (parsed.kind !== "scheduled") return;
          expect(parsed.job.uuid).toBe(id.toLowerCase());
          expect(parsed.job.agentQueryRules).toEqual(rules);
          expect(parsed.job.build.number).toBe(number);
        },
      ),
    );
  });
});
