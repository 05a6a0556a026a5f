import {
  InvalidEventError,
  LABELS,
  type PodDefinition,
  renderEvent,
  sampleManifest,
  UnknownPodDefinitionError,
} from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";
import { SAMPLE_JOB_UUID } from "../src/scheduling/sample-manifest.js";
import { loadEvent, podDefinition, settings } from "./helpers/fixtures.js";

const library = new Map<string, PodDefinition>([
  ["default", podDefinition()],
  [
    "node-postgres",
    podDefinition({
      name: "node-postgres",
      services: [{ name: "postgres", image: "postgres:16" }],
    }),
  ],
  ["pool", podDefinition({ name: "pool", mode: "long-polling", longPolling: { queue: "pool" } })],
]);
const lookup = (name: string): PodDefinition => {
  const found = library.get(name);
  if (!found) throw new UnknownPodDefinitionError(name, [...library.keys()]);
  return found;
};
const render = (input: unknown, queues = ["default"]) =>
  renderEvent(input, { settings: settings({ queues }), lookup });

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
  }
  return "no error";
}

describe("renderEvent", () => {
  it.each(["eventbridge-job-scheduled", "detail-job-scheduled", "webhook-job-scheduled"])(
    "renders %s",
    (name) => {
      const rendered = render(loadEvent(name));
      expect(rendered.kind).toBe("job");
      if (rendered.kind !== "job") return;
      expect(rendered.definition.name).toBe("node-postgres");
      expect(rendered.manifest.metadata.name).toBe(
        "buildkite-0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70",
      );
    },
  );

  it("uses the default definition when the job names none, and ignores other rule keys", () => {
    const rendered = render(loadEvent("rules-extra-keys"));
    expect(rendered.kind === "job" && rendered.definition.name).toBe("default");
  });

  it.each([
    ["hostile-queue-spaces", 'queue "my queue" is not served here (serving: default)'],
    [
      "eventbridge-job-finished",
      "job 0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70 has finished: nothing to schedule",
    ],
    ["webhook-ping", 'webhook event "ping" is not one we act on'],
  ])("%s is not for us", (name, reason) => {
    expect(render(loadEvent(name))).toEqual({ kind: "ignored", reason });
  });

  it("leaves a job for another fleet's queue alone, even when its pod rule is malformed", () => {
    const input = loadEvent("hostile-rule-path-traversal") as {
      detail: { job: { agent_query_rules: string[] } };
    };
    input.detail.job.agent_query_rules[0] = "queue=other-fleet";
    expect(render(input).kind).toBe("ignored");
  });

  it("points at the long-polling Deployment instead of creating a Job", () => {
    const input = loadEvent("detail-job-scheduled") as { job: { agent_query_rules: string[] } };
    input.job.agent_query_rules = ["queue=pool", "pod=pool"];
    expect(render(input, ["default", "pool"])).toEqual({
      kind: "ignored",
      reason:
        'pod definition "pool" is long-polling: its Deployment\'s agents take jobs from queue "pool"',
    });
  });

  it("refuses a long-polling definition on another queue than the job's: nothing would run it", () => {
    const input = loadEvent("detail-job-scheduled") as { job: { agent_query_rules: string[] } };
    input.job.agent_query_rules = ["pod=pool"];
    expect(errorOf(() => render(input))).toBe(
      'InvalidEventError: job.agent_query_rules: pod definition "pool" is long-polling on queue "pool", but the job targets queue "default": no agent would take it',
    );
  });

  const nameError = (got: string) =>
    `InvalidEventError: job.agent_query_rules[1]: expected a pod definition name (lower-case letters, digits and "-", at most 40 characters), got ${got}`;

  it.each([
    ["hostile-rule-path-traversal", nameError('"../../etc/passwd"')],
    ["hostile-rule-spaces", nameError('"node postgres"')],
    ["hostile-rule-quotes", nameError('"\\"default\\""')],
    [
      "hostile-rule-conflict",
      'InvalidEventError: job.agent_query_rules[2]: pod-template="node-postgres" conflicts with pod="default" at [1]',
    ],
    ["hostile-missing-uuid", "InvalidEventError: detail.job.uuid: required: expected string"],
  ])("%s fails with one exact error", (name, message) => {
    expect(errorOf(() => render(loadEvent(name)))).toBe(message);
  });

  it("names an unknown definition and lists the known ones", () => {
    const input = loadEvent("detail-job-scheduled") as { job: { agent_query_rules: string[] } };
    input.job.agent_query_rules = ["pod=gpu"];
    expect(errorOf(() => render(input))).toBe(
      'UnknownPodDefinitionError: no pod definition named "gpu" (known: default, node-postgres, pool)',
    );
    expect(() => render(input)).not.toThrow(InvalidEventError);
  });
});

describe("sampleManifest", () => {
  it("renders a one-shot definition as a Job for the sample job, and a long-polling one as its Deployment", () => {
    const job = sampleManifest(podDefinition({ name: "web" }), settings({ queues: ["ci"] }));
    expect(job.kind).toBe("Job");
    expect(job.metadata.name).toBe(`buildkite-${SAMPLE_JOB_UUID}`);
    expect(job.spec.template.metadata?.labels?.[LABELS.podDefinition]).toBe("web");
    const pool = sampleManifest(
      podDefinition({
        name: "pool",
        mode: "long-polling",
        longPolling: { queue: "ci", replicas: 1 },
      }),
      settings({ queues: ["ci"] }),
    );
    expect(pool.kind).toBe("Deployment");
  });
});
