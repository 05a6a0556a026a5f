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

  it.each([
    "https://agent.buildkite.com/v3",
    "http://127.0.0.1:4321/v3",
    "http://buildkite-emulator.ci.svc.cluster.local:8080/v3",
    "https://[::1]:8443/agent/v3",
    "HTTPS://proxy.example.com",
  ])("takes the agent endpoint %j as written", (agentEndpoint) => {
    expect(resolveSettings({ agentEndpoint })).toEqual({ ...DEFAULT_SETTINGS, agentEndpoint });
  });

  it("leaves the agent endpoint unset by default (the agent's own)", () => {
    expect(resolveSettings()).not.toHaveProperty("agentEndpoint");
  });

  it.each([
    "agent.buildkite.com/v3",
    "/v3",
    "ftp://agent.example.com/v3",
    "http:agent.example.com",
    "http:///v3",
    "https://",
    " https://agent.buildkite.com/v3",
    "https://agent.buildkite.com/v 3",
    "https://agent.buildkite.com:99999/v3",
    "https://user:s3cr3t@proxy.example.com/v3",
    "",
  ])("refuses the agent endpoint %j", (agentEndpoint) => {
    expect(() => resolveSettings({ agentEndpoint })).toThrow(
      "agentEndpoint: expected an absolute http:// or https:// URL without credentials, like https://agent.buildkite.com/v3",
    );
  });

  it("never echoes an agent endpoint it rejects (it may carry credentials)", () => {
    try {
      resolveSettings({ agentEndpoint: "https://user:s3cr3t@proxy.example.com/v3" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidSettingsError);
      expect(String(error)).not.toContain("s3cr3t");
    }
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
