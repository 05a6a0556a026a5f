import { matchesAgentQueryRules, queueOf } from "@ondemand-eks/testenv";
import { describe, expect, it } from "vitest";

describe("agent query rules against agent tags", () => {
  it.each([
    [["queue=linux"], ["queue=linux", "os=linux"], true],
    [["queue=linux", "os=lin*"], ["queue=linux", "os=linux"], true],
    [["queue=linux", "os=win*"], ["queue=linux", "os=linux"], false],
    [["queue=*"], ["queue=anything"], true],
    [["os=linux"], ["queue=linux", "os=linux"], false],
    [["os=linux"], ["os=linux"], true],
    [[], [], true],
    [["queue=linux"], [], false],
    [["queue=a.b"], ["queue=aXb"], false],
    [["gpu=true"], ["queue=default"], false],
  ])("rules %j, tags %j: %s", (rules, tags, expected) => {
    // Act
    const matched = matchesAgentQueryRules(rules, tags);

    // Assess
    expect(matched).toBe(expected);
  });

  it("names the queue, `default` without a queue rule, and keeps `=` in values", () => {
    // Assess
    expect(queueOf(["os=linux", "queue=build=fast"])).toBe("build=fast");
    expect(queueOf(["os=linux"])).toBe("default");
  });
});
