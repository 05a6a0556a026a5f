import { DEFAULT_SETTINGS, InvalidSettingsError, resolveSettings } from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";

describe("resolveSettings", () => {
  it("applies the documented defaults", () => {
    expect(resolveSettings()).toEqual(DEFAULT_SETTINGS);
  });

  it.each([
    [
      { namespace: "Not A Namespace" },
      "namespace: expected a Kubernetes namespace name (RFC 1123 label)",
    ],
    [{ queues: [] }, "queues: expected at least one queue"],
    [{ queues: ["a,b"] }, "queues[0]: expected a queue name without spaces, commas or ="],
    [
      { ttlSecondsAfterFinished: -1 },
      "ttlSecondsAfterFinished: Too small: expected number to be >=0",
    ],
    [
      { ttlSecondsAfterFinished: 99_999_999_999 },
      "ttlSecondsAfterFinished: expected at most 2147483647 (the Kubernetes field is 32-bit)",
    ],
    [{ activeDeadlineSeconds: "6h" }, "activeDeadlineSeconds: expected number, received string"],
    [
      { agentTokenSecret: { name: "token", value: "s3cr3t" } },
      'agentTokenSecret: unknown field "value"',
    ],
  ])("%j", (input, message) => {
    expect(() => resolveSettings(input as never)).toThrow(InvalidSettingsError);
    expect(() => resolveSettings(input as never)).toThrow(message);
  });

  it("never echoes a value it rejects (a mistyped token stays out of logs)", () => {
    try {
      resolveSettings({ agentTokenSecret: { name: "bk-TOKEN-abc123" } });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain("bk-TOKEN-abc123");
    }
  });
});
