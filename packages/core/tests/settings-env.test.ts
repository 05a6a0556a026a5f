import {
  DEFAULT_SETTINGS,
  InvalidSettingsError,
  SETTING_VARIABLES,
  settingsFromEnvironment,
} from "@ondemand-eks/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

describe("settingsFromEnvironment", () => {
  it("keeps the defaults when no variable (or an empty one) is set", () => {
    expect(settingsFromEnvironment({})).toEqual(DEFAULT_SETTINGS);
    expect(settingsFromEnvironment({ ONDEMAND_EKS_NAMESPACE: "" })).toEqual(DEFAULT_SETTINGS);
  });

  it("reads every variable into its setting", () => {
    expect(
      settingsFromEnvironment({
        ONDEMAND_EKS_NAMESPACE: "ci",
        ONDEMAND_EKS_AGENT_TOKEN_SECRET: "agent",
        ONDEMAND_EKS_AGENT_TOKEN_SECRET_KEY: "value",
        ONDEMAND_EKS_TTL_SECONDS_AFTER_FINISHED: "60",
        ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS: " 3600 ",
        ONDEMAND_EKS_QUEUES: "default, build ,",
        ONDEMAND_EKS_DEFAULT_POD: "elastic-ci-stack",
      }),
    ).toEqual({
      namespace: "ci",
      agentTokenSecret: { name: "agent", key: "value" },
      ttlSecondsAfterFinished: 60,
      activeDeadlineSeconds: 3600,
      queues: ["default", "build"],
      defaultPodDefinition: "elastic-ci-stack",
    });
  });

  it.each([
    ["ONDEMAND_EKS_NAMESPACE", "Not A Namespace", "expected a Kubernetes namespace name"],
    [
      "ONDEMAND_EKS_TTL_SECONDS_AFTER_FINISHED",
      "10m",
      'expected a whole number of seconds, received "10m"',
    ],
    [
      "ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS",
      "1.5",
      'expected a whole number of seconds, received "1.5"',
    ],
    ["ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS", "0", "Too small"],
    ["ONDEMAND_EKS_QUEUES", "a b", "expected a queue name without spaces"],
    ["ONDEMAND_EKS_AGENT_TOKEN_SECRET_KEY", "a/b", "expected a Secret key"],
  ])("an invalid %s is reported by its variable name", (env, value, message) => {
    let caught: unknown;
    try {
      settingsFromEnvironment({ [env]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidSettingsError);
    const [issue] = (caught as InvalidSettingsError).issues;
    expect(issue?.path).toBe(env);
    expect(issue?.message).toContain(message);
  });

  it("never throws anything but InvalidSettingsError, whatever the variables hold", () => {
    const names = SETTING_VARIABLES.map((v) => v.env);
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), fc.string()), (env) => {
        try {
          settingsFromEnvironment(env);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidSettingsError);
          for (const issue of (error as InvalidSettingsError).issues) {
            expect(names).toContain(issue.path);
          }
        }
      }),
    );
  });
});
