import {
  buildJob,
  definePodDefinition,
  type PodDefinition,
  parseEvent,
  resolveSettings,
  routeJob,
  type ScheduledJob,
  type SchedulerSettings,
} from "@ondemand-eks/core";
import {
  isLabelKey,
  isLabelValue,
  MAX_ANNOTATION_LENGTH,
  toLabelValue,
} from "@ondemand-eks/core/manifest";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deepFreeze } from "./helpers/fixtures.js";

const NUM_RUNS = 300;

/** An RFC 1123 label, what Kubernetes requires of a Job's name. */
const isDnsLabel = (name: string) =>
  name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);

/** Untrusted text carries this marker, so "did it leak?" is a substring search. */
const MARK = "UNTRUSTED";
/** The job's command gets a marker of its own: it must appear nowhere at all. */
const COMMAND_MARK = "JOBCOMMAND";
const untrusted = fc.string({ maxLength: 80, unit: "binary" }).map((s) => `${MARK}${s}`);
const anyText = fc.oneof(fc.string({ maxLength: 400, unit: "binary" }), untrusted);

const servedQueues = ["default", "build", "gpu.large"];
/** An agent API endpoint: any http(s) URL without credentials (a proxy, an emulator). */
const agentEndpointArb = fc.webUrl({
  authoritySettings: { withIPv4: true, withIPv6: true, withPort: true },
  withQueryParameters: true,
  withFragments: true,
});
const settingsArb: fc.Arbitrary<SchedulerSettings> = fc
  .record({
    namespace: fc.stringMatching(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/),
    ttlSecondsAfterFinished: fc.integer({ min: 0, max: 86_400 }),
    activeDeadlineSeconds: fc.integer({ min: 1, max: 86_400 }),
    agentEndpoint: fc.option(agentEndpointArb, { nil: undefined }),
  })
  .map(({ agentEndpoint, ...s }) =>
    resolveSettings({
      ...s,
      queues: servedQueues,
      ...(agentEndpoint === undefined ? {} : { agentEndpoint }),
    }),
  );

const definitionArb: fc.Arbitrary<PodDefinition> = fc
  .record({
    name: fc.stringMatching(/^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/),
    tags: fc.dictionary(
      fc.stringMatching(/^[a-z][a-z0-9_.-]{0,10}$/),
      fc.stringMatching(/^[a-z0-9]{0,8}$/),
      { maxKeys: 3 },
    ),
    services: fc.uniqueArray(fc.constantFrom("postgres", "redis", "dockerd", "memcached"), {
      maxLength: 3,
    }),
  })
  .filter(({ tags }) => !["queue", "pod", "pod-template"].some((k) => k in tags))
  .map(({ name, tags, services }) =>
    definePodDefinition({
      name,
      agent: { image: "buildkite/agent:3", tags, env: [{ name: "TRUSTED", value: "x" }] },
      services: services.map((service) => ({ name: service, image: `${service}:latest` })),
    }),
  );

/** A Job Scheduled detail with untrusted text everywhere a user can put it, including the command. */
const detailArb = fc.record({
  uuid: fc.uuid(),
  queue: fc.option(fc.constantFrom(...servedQueues), { nil: undefined }),
  extraRules: fc.array(
    untrusted.map((v) => `custom=${v}`),
    { maxLength: 4 },
  ),
  command: fc.string({ maxLength: 80, unit: "binary" }).map((s) => `${COMMAND_MARK}${s}`),
  label: fc.option(anyText, { nil: null }),
  stepKey: fc.option(anyText, { nil: null }),
  branch: fc.option(anyText, { nil: null }),
  commit: fc.option(anyText, { nil: null }),
  message: fc.option(anyText, { nil: null }),
  pipeline: anyText.filter((s) => s.length > 0),
  organization: fc.option(
    anyText.filter((s) => s.length > 0),
    { nil: null },
  ),
  repo: fc.option(anyText, { nil: null }),
  buildNumber: fc.nat(),
});

type Detail = typeof detailArb extends fc.Arbitrary<infer T> ? T : never;

function toJob(d: Detail): ScheduledJob {
  const rules = [...(d.queue ? [`queue=${d.queue}`] : []), ...d.extraRules];
  const event = parseEvent({
    job: {
      uuid: d.uuid,
      type: "script",
      label: d.label,
      step_key: d.stepKey,
      command: d.command,
      agent_query_rules: rules,
    },
    build: { number: d.buildNumber, branch: d.branch, commit: d.commit, message: d.message },
    pipeline: { slug: d.pipeline, repo: d.repo },
    organization: d.organization === null ? null : { slug: d.organization },
  });
  if (event.kind !== "scheduled") throw new Error("generator made a non-scheduled event");
  return event.job;
}

const input = fc.record({ detail: detailArb, definition: definitionArb, settings: settingsArb });

/** The queue a job's rules ask for, read here independently of the code under test. */
const askedQueue = (job: ScheduledJob) =>
  job.agentQueryRules.find((r) => r.startsWith("queue="))?.slice(6) ?? "default";

/** Runs `predicate` on generated input, routed as the scheduling path routes it. */
function check(
  predicate: (args: {
    job: ScheduledJob;
    queue: string;
    definition: PodDefinition;
    settings: SchedulerSettings;
    detail: Detail;
  }) => void,
) {
  fc.assert(
    fc.property(input, ({ detail, definition, settings }) => {
      const job = toJob(detail);
      const route = routeJob(job, settings);
      if (route.kind !== "schedule")
        throw new Error(`generator made an unserved job: ${route.reason}`);
      predicate({ job, queue: route.queue, definition, settings, detail });
    }),
    { numRuns: NUM_RUNS },
  );
}

describe("buildJob invariants", () => {
  it("name: buildkite-<uuid>, a DNS-1123 label of at most 63 characters", () => {
    check(({ job, queue, definition, settings }) => {
      const { name } = buildJob({ job, queue, definition, settings }).metadata;
      expect(name).toBe(`buildkite-${job.uuid}`);
      expect(isDnsLabel(name)).toBe(true);
    });
  });

  it("labels: every key and value valid, the required ones present", () => {
    check(({ job, queue, definition, settings }) => {
      const manifest = buildJob({ job, queue, definition, settings });
      for (const labels of [manifest.metadata.labels, manifest.spec.template.metadata.labels]) {
        for (const [key, value] of Object.entries(labels)) {
          expect(isLabelKey(key), key).toBe(true);
          expect(isLabelValue(value), `${key}=${value}`).toBe(true);
        }
        expect(labels["buildkite.com/job-uuid"]).toBe(job.uuid);
        expect(labels["buildkite.com/queue"]).toBe(toLabelValue(askedQueue(job)));
        expect(labels["buildkite.com/pipeline"]).toBe(toLabelValue(job.pipeline.slug));
        expect(labels["buildkite.com/build-number"]).toBe(String(job.build.number));
        expect(labels["ondemand-eks/pod-definition"]).toBe(definition.name);
        expect(labels["app.kubernetes.io/managed-by"]).toBe("ondemand-eks");
      }
    });
  });

  it("annotations: the human context, each value bounded, safe-to-evict false on the pod", () => {
    check(({ job, queue, definition, settings }) => {
      const manifest = buildJob({ job, queue, definition, settings });
      const notes = manifest.metadata.annotations;
      for (const value of Object.values(notes))
        expect(value.length).toBeLessThanOrEqual(MAX_ANNOTATION_LENGTH);
      const expected: [string, string | undefined][] = [
        ["buildkite.com/build-url", job.build.url],
        ["buildkite.com/job-label", job.label],
        ["buildkite.com/branch", job.build.branch],
        ["buildkite.com/commit", job.build.commit],
        ["buildkite.com/pipeline", job.pipeline.slug],
      ];
      for (const [key, value] of expected) {
        if (value === undefined) expect(notes[key]).toBeUndefined();
        else expect(value.startsWith(notes[key] ?? "\u0000")).toBe(true);
      }
      expect(
        manifest.spec.template.metadata.annotations[
          "cluster-autoscaler.kubernetes.io/safe-to-evict"
        ],
      ).toBe("false");
    });
  });

  it("agent: exactly one container, acquiring this job, token only from a Secret, tags with queue and definition", () => {
    check(({ job, queue, definition, settings }) => {
      const { containers } = buildJob({ job, queue, definition, settings }).spec.template.spec;
      expect(containers).toHaveLength(1);
      const [agent] = containers;
      expect(agent?.name).toBe("agent");
      const env = new Map((agent?.env ?? []).map((e) => [e.name, e]));
      expect(env.get("BUILDKITE_AGENT_ACQUIRE_JOB")?.value).toBe(job.uuid);
      expect(env.get("BUILDKITE_AGENT_REFLECT_EXIT_STATUS")?.value).toBe("true");
      const token = env.get("BUILDKITE_AGENT_TOKEN");
      expect(token?.value).toBeUndefined();
      expect(token?.valueFrom).toEqual({ secretKeyRef: settings.agentTokenSecret });
      const tags = (env.get("BUILDKITE_AGENT_TAGS")?.value ?? "").split(",");
      expect(tags).toContain(`queue=${askedQueue(job)}`);
      expect(tags).toContain(`pod=${definition.name}`);
    });
  });

  it("endpoint: BUILDKITE_AGENT_ENDPOINT once, after the token, exactly when set; nothing else changes", () => {
    check(({ job, queue, definition, settings }) => {
      // Act
      const { agentEndpoint, ...rest } = settings;
      const without = buildJob({ job, queue, definition, settings: rest });
      const manifest = buildJob({ job, queue, definition, settings });

      // Assess
      const env = manifest.spec.template.spec.containers[0]?.env ?? [];
      const endpoints = env.filter((e) => e.name === "BUILDKITE_AGENT_ENDPOINT");
      if (agentEndpoint === undefined) {
        expect(endpoints).toEqual([]);
        expect(manifest).toEqual(without);
        return;
      }
      expect(endpoints).toEqual([{ name: "BUILDKITE_AGENT_ENDPOINT", value: agentEndpoint }]);
      expect(env.map((e) => e.name).slice(0, 2)).toEqual([
        "BUILDKITE_AGENT_TOKEN",
        "BUILDKITE_AGENT_ENDPOINT",
      ]);
      const agent = manifest.spec.template.spec.containers[0];
      if (agent) agent.env = env.filter((e) => e.name !== "BUILDKITE_AGENT_ENDPOINT");
      expect(manifest).toEqual(without);
    });
  });

  it("lifecycle: restartPolicy Never, backoffLimit 0, TTL and deadline from settings", () => {
    check(({ job, queue, definition, settings }) => {
      const { spec } = buildJob({ job, queue, definition, settings });
      expect(spec.template.spec.restartPolicy).toBe("Never");
      expect(spec.backoffLimit).toBe(0);
      expect(spec.ttlSecondsAfterFinished).toBe(settings.ttlSecondsAfterFinished);
      expect(spec.activeDeadlineSeconds).toBe(settings.activeDeadlineSeconds);
    });
  });

  it("services: each one a native sidecar (init container, restartPolicy Always), none a main container", () => {
    check(({ job, queue, definition, settings }) => {
      const pod = buildJob({ job, queue, definition, settings }).spec.template.spec;
      const sidecars = (pod.initContainers ?? []).filter((c) => c.restartPolicy === "Always");
      expect(sidecars.map((c) => c.name)).toEqual(definition.services.map((s) => s.name));
      expect(pod.containers.map((c) => c.name)).toEqual(["agent"]);
    });
  });

  it("isolation: no event text reaches a command, arg, image or env var; the job's command appears nowhere", () => {
    check(({ job, queue, definition, settings, detail }) => {
      const manifest = buildJob({ job, queue, definition, settings });
      const pod = manifest.spec.template.spec;
      for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const reachable = [
          container.image,
          ...(container.command ?? []),
          ...(container.args ?? []),
        ];
        for (const env of container.env ?? []) {
          if (env.name !== "BUILDKITE_AGENT_ACQUIRE_JOB")
            reachable.push(env.value, JSON.stringify(env.valueFrom ?? null));
        }
        for (const text of reachable) expect(text ?? "").not.toContain(MARK);
      }
      expect(detail.command.startsWith(COMMAND_MARK)).toBe(true);
      expect(JSON.stringify(manifest)).not.toContain(COMMAND_MARK);
    });
  });

  it("purity: inputs are never mutated, and the same input gives the same bytes", () => {
    check(({ job, queue, definition, settings }) => {
      // Prepare: the inputs as they were, and a frozen copy (mutating it throws).
      const before = JSON.stringify([job, definition, settings]);
      const frozen = deepFreeze(structuredClone({ job, queue, definition, settings }));

      // Act
      const fromOriginals = JSON.stringify(buildJob({ job, queue, definition, settings }));
      const fromFrozen = JSON.stringify(buildJob(frozen));
      const again = JSON.stringify(buildJob({ job, queue, definition, settings }));

      // Assess
      expect(JSON.stringify([job, definition, settings])).toBe(before);
      expect(fromFrozen).toBe(fromOriginals);
      expect(again).toBe(fromOriginals);
    });
  });

  it("output is independent: editing a manifest never changes the definition it came from", () => {
    check(({ job, queue, definition, settings }) => {
      const before = JSON.stringify(definition);
      const manifest = buildJob({ job, queue, definition, settings });
      for (const c of [
        ...manifest.spec.template.spec.containers,
        ...(manifest.spec.template.spec.initContainers ?? []),
      ]) {
        c.image = "mutated";
        c.env?.push({ name: "MUTATED", value: "1" });
      }
      expect(JSON.stringify(definition)).toBe(before);
    });
  });
});

describe("label value properties", () => {
  it("toLabelValue: always a valid label value; valid values pass through unchanged", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: "binary" }), (value) => {
        const label = toLabelValue(value);
        expect(isLabelValue(label)).toBe(true);
        if (isLabelValue(value)) expect(label).toBe(value);
      }),
      { numRuns: 1000 },
    );
  });
});
