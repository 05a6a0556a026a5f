/**
 * The arbitraries of `@ondemand-eks/core/testing` make what they promise: events that
 * parse, saying what they say; definitions that validate; settings that resolve.
 */
import {
  type EventForm,
  parseEvent,
  resolveSettings,
  routeJob,
  safeParsePodDefinition,
} from "@ondemand-eks/core";
import { privilegeUses } from "@ondemand-eks/core/pod-definition";
import { arbitraries, type PodDefinitionOptions, UNTRUSTED_MARK } from "@ondemand-eks/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAgentQueryRules, podDefinitionOf, queueOf } from "../src/rules/agent-query-rules.js";

const NUM_RUNS = 200;
const queues = ["default", "build", "gpu.large"];
const podDefinitions = ["small", "node-postgres"];

describe("arbitraries.scheduledEvent", () => {
  it("parses as a scheduled job with the uuid, queue and pod definition it says", () => {
    fc.assert(
      fc.property(arbitraries.scheduledEvent({ queues, podDefinitions }), (event) => {
        // Act
        const parsed = parseEvent(event.input, event.options);

        // Assess
        if (parsed.kind !== "scheduled") throw new Error(`parsed as ${parsed.kind}`);
        expect(parsed.job.uuid).toBe(event.uuid);
        expect(parsed.job.form).toBe(event.form);
        const rules = parseAgentQueryRules(parsed.job.agentQueryRules);
        expect(queueOf(rules)).toBe(event.queue);
        expect(podDefinitionOf(rules)).toBe(event.podDefinition);
        expect(routeJob(parsed.job, resolveSettings({ queues })).kind).toBe("schedule");
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("makes every form, and only the forms asked for", () => {
    const seen = new Set<EventForm>();
    fc.assert(
      fc.property(arbitraries.scheduledEvent(), (event) => {
        seen.add(event.form);
      }),
      { numRuns: NUM_RUNS },
    );
    expect([...seen].sort()).toEqual(["eventbridge", "eventbridge-detail", "stacks", "webhook"]);
    fc.assert(
      fc.property(arbitraries.scheduledEvent({ forms: ["webhook"] }), (event) => {
        expect(event.form).toBe("webhook");
      }),
      { numRuns: 20 },
    );
  });

  it("puts marked hostile text in the user-written fields; the command carries its own mark", () => {
    fc.assert(
      fc.property(arbitraries.scheduledJob({ forms: ["eventbridge"] }), (job) => {
        expect(job.pipeline.slug).toContain(UNTRUSTED_MARK);
        for (const text of [job.label, job.build.branch, job.build.message, job.stepKey]) {
          if (text !== undefined) expect(text).toContain(UNTRUSTED_MARK);
        }
        for (const rule of job.agentQueryRules) {
          if (!/^(queue|pod|pod-template)=/.test(rule)) expect(rule).toContain(UNTRUSTED_MARK);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("arbitraries.agentQueryRule", () => {
  it("is key=value with a key that routes nothing", () => {
    fc.assert(
      fc.property(arbitraries.agentQueryRule({ mark: false }), (rule) => {
        const [parsed] = parseAgentQueryRules([rule]);
        expect(["queue", "pod", "pod-template"]).not.toContain(parsed?.key);
        expect(`${parsed?.key}=${parsed?.value}`).toBe(rule);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("arbitraries.podDefinition", () => {
  it.each<PodDefinitionOptions>([
    {},
    { mode: "one-shot", services: true, privilege: true },
    { mode: "one-shot", services: false, privilege: false },
    { mode: "long-polling", privilege: true },
    { mode: "long-polling", services: true, privilege: false },
  ])("every input validates, and follows the options %j", (options) => {
    fc.assert(
      fc.property(arbitraries.podDefinitionInput(options), (input) => {
        // Act
        const result = safeParsePodDefinition(input);

        // Assess
        if (!result.success) throw result.error;
        const definition = result.data;
        if (options.mode) expect(definition.mode).toBe(options.mode);
        if (options.services === true) expect(definition.services.length).toBeGreaterThan(0);
        if (options.services === false) expect(definition.services).toEqual([]);
        if (options.privilege === true) expect(definition.privilege.length).toBeGreaterThan(0);
        if (options.privilege === false) expect(definition.privilege).toEqual([]);
        expect(new Set(privilegeUses(definition).map((use) => use.feature))).toEqual(
          new Set(definition.privilege),
        );
        if (definition.mode === "long-polling") expect(definition.longPolling).toBeDefined();
      }),
      { numRuns: NUM_RUNS / 2 },
    );
  });

  it("uses the names and long-polling queues given", () => {
    fc.assert(
      fc.property(
        arbitraries.podDefinition({ mode: "long-polling", names: ["linux"], queues: ["q"] }),
        (definition) => {
          expect(definition.name).toBe("linux");
          expect(definition.longPolling?.queue).toBe("q");
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe("arbitraries.settings", () => {
  it("resolves, serving exactly the queues given (default among generated ones)", () => {
    fc.assert(
      fc.property(arbitraries.settings({ queues }), arbitraries.settings(), (given, generated) => {
        expect(given.queues).toEqual(queues);
        expect(generated.queues).toContain("default");
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("arbitraries.hostileText", () => {
  it("carries the mark it is given, or none", () => {
    fc.assert(
      fc.property(
        arbitraries.hostileText({ mark: "MARK" }),
        arbitraries.hostileText({ mark: false }),
        (marked, plain) => {
          expect(marked).toContain("MARK");
          expect(typeof plain).toBe("string");
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
