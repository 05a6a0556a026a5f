import { InvalidEventError } from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";
import {
  parseAgentQueryRule,
  parseAgentQueryRules,
  podDefinitionOf,
  queueOf,
} from "../src/rules/agent-query-rules.js";

const rules = (...list: string[]) => parseAgentQueryRules(list);

function messageOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidEventError) return error.message;
    throw error;
  }
  return undefined;
}

describe("agent query rules", () => {
  it("splits at the first = only", () => {
    expect(parseAgentQueryRule("image=repo/x:tag=y*")).toEqual({
      key: "image",
      value: "repo/x:tag=y*",
    });
    expect(parseAgentQueryRule("empty=")).toEqual({ key: "empty", value: "" });
    expect(parseAgentQueryRule("=value")).toBeUndefined();
    expect(parseAgentQueryRule("novalue")).toBeUndefined();
  });

  it("names the index of a malformed rule", () => {
    expect(messageOf(() => rules("queue=a", "oops"))).toBe(
      'job.agent_query_rules[1]: expected "key=value", got "oops"',
    );
  });

  it("picks the queue, default when absent", () => {
    expect(queueOf(rules("os=linux"))).toBe("default");
    expect(queueOf(rules("queue=build", "os=linux"))).toBe("build");
    expect(queueOf(rules("queue=build", "queue=build"))).toBe("build");
  });

  it("refuses two different queues", () => {
    expect(messageOf(() => queueOf(rules("queue=a", "queue=b")))).toBe(
      'job.agent_query_rules[1]: queue="b" conflicts with queue="a" at [0]',
    );
  });

  it("reads pod= and the original stack's pod-template=", () => {
    expect(podDefinitionOf(rules("pod=node-postgres"))).toBe("node-postgres");
    expect(podDefinitionOf(rules("pod-template=elastic-ci-stack"))).toBe("elastic-ci-stack");
    expect(podDefinitionOf(rules("pod=x", "pod-template=x"))).toBe("x");
    expect(podDefinitionOf(rules("queue=default"))).toBeUndefined();
  });

  it.each([
    ["pod=../../etc/passwd", 'got "../../etc/passwd"'],
    ["pod=/etc/passwd", 'got "/etc/passwd"'],
    ["pod=node postgres", 'got "node postgres"'],
    ['pod="default"', 'got "\\"default\\""'],
    ["pod=Default", 'got "Default"'],
    ["pod=", 'got ""'],
    [`pod=${"a".repeat(41)}`, `got "${"a".repeat(41)}"`],
  ])("refuses %j as a definition name", (rule, got) => {
    expect(messageOf(() => podDefinitionOf(rules("queue=default", rule)))).toBe(
      `job.agent_query_rules[1]: expected a pod definition name (lower-case letters, digits and "-", at most 40 characters), ${got}`,
    );
  });
});
