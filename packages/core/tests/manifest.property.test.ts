import {
  buildJob,
  type PodDefinition,
  parseEvent,
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
import {
  arbitraries,
  COMMAND_MARK,
  type GeneratedEvent,
  UNTRUSTED_MARK,
} from "@ondemand-eks/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deepFreeze } from "./helpers/fixtures.js";

const NUM_RUNS = 300;

/** An RFC 1123 label, what Kubernetes requires of a Job's name. */
const isDnsLabel = (name: string) =>
  name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);

const servedQueues = ["default", "build", "gpu.large"];

/**
 * A Job Scheduled event in any form, with marked hostile text everywhere a user can put
 * it (the command too), a one-shot definition and settings serving the event's queues.
 */
const input = fc.record({
  event: arbitraries.scheduledEvent({ queues: servedQueues }),
  definition: arbitraries.podDefinition({ mode: "one-shot" }),
  settings: arbitraries.settings({ queues: servedQueues }),
});

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
    event: GeneratedEvent;
  }) => void,
) {
  fc.assert(
    fc.property(input, ({ event, definition, settings }) => {
      const parsed = parseEvent(event.input, event.options);
      if (parsed.kind !== "scheduled") throw new Error(`generator made a ${parsed.kind} event`);
      const job = parsed.job;
      const route = routeJob(job, settings);
      if (route.kind !== "schedule")
        throw new Error(`generator made an unserved job: ${route.reason}`);
      predicate({ job, queue: route.queue, definition, settings, event });
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
        expect(labels["ondemand-eks.io/pod-definition"]).toBe(definition.name);
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
    check(({ job, queue, definition, settings, event }) => {
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
        for (const text of reachable) expect(text ?? "").not.toContain(UNTRUSTED_MARK);
      }
      expect(event.command.startsWith(COMMAND_MARK)).toBe(true);
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
