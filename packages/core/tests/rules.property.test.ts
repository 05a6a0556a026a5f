import { InvalidEventError } from "@ondemand-eks/core";
import { arbitraries } from "@ondemand-eks/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPodDefinitionName } from "../src/names.js";
import {
  parseAgentQueryRule,
  parseAgentQueryRules,
  podDefinitionOf,
  queueOf,
} from "../src/rules/agent-query-rules.js";

const NUM_RUNS = 500;
const key = fc
  .string({ minLength: 1, maxLength: 20, unit: "binary" })
  .filter((k) => !k.includes("="));
/** Any value, hostile strings among them. */
const value = arbitraries.hostileText({ maxLength: 40, mark: false });
/** A rule of any key but queue, pod and pod-template, with a hostile value. */
const anyRule = arbitraries.agentQueryRule({ mark: false });

describe("agent query rule properties", () => {
  it("round-trip: key=value parses back to the same key and value, whatever the value holds", () => {
    fc.assert(
      fc.property(key, value, (k, v) => {
        expect(parseAgentQueryRule(`${k}=${v}`)).toEqual({ key: k, value: v });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("queue: the queue rule's value, or default when the job has none", () => {
    fc.assert(
      fc.property(fc.array(anyRule, { maxLength: 10 }), fc.option(value), (others, queue) => {
        const list = queue === null ? others : [...others, `queue=${queue}`];
        expect(queueOf(parseAgentQueryRules(list))).toBe(queue ?? "default");
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("pod: returns only valid definition names; anything else is an InvalidEventError", () => {
    fc.assert(
      fc.property(
        fc.oneof(value, fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/)),
        fc.constantFrom("pod", "pod-template"),
        (name, ruleKey) => {
          const list = parseAgentQueryRules([`${ruleKey}=${name}`]);
          if (isPodDefinitionName(name)) {
            expect(podDefinitionOf(list)).toBe(name);
          } else {
            expect(() => podDefinitionOf(list)).toThrow(InvalidEventError);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("order: the queue and pod found do not depend on the order of the rules", () => {
    fc.assert(
      fc.property(
        fc.array(anyRule, { maxLength: 8 }),
        fc.constantFrom("a", "b"),
        (others, queue) => {
          const list = [
            ...others.filter((r) => !/^(queue|pod|pod-template)=/.test(r)),
            `queue=${queue}`,
            "pod=x",
          ];
          const reversed = [...list].reverse();
          expect(queueOf(parseAgentQueryRules(reversed))).toBe(queueOf(parseAgentQueryRules(list)));
          expect(podDefinitionOf(parseAgentQueryRules(reversed))).toBe("x");
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
