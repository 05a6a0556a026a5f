import { join } from "node:path";
import { EXIT, exitFor, exitForError, InputTooLargeError, UsageError } from "@ondemand-eks/cli";
import {
  dispositionOf,
  InvalidEventError,
  InvalidSettingsError,
  type ScheduleOutcome,
} from "@ondemand-eks/core";
import { EksAuthError } from "@ondemand-eks/eks-auth";
import { PodLibraryUnavailableError } from "@ondemand-eks/runtime";
import { describe, expect, it } from "vitest";
import { cli, SAMPLE_EVENT, tempDir } from "./helpers.js";

describe("exit statuses, decided in exit.ts", () => {
  it.each([
    ["created", EXIT.done],
    ["exists", EXIT.done],
    ["dry-run", EXIT.done],
    ["ignored", EXIT.done],
    ["invalid", EXIT.invalid],
    ["failed", EXIT.unavailable],
  ] as const)("an outcome %s exits %i", (outcome, status) => {
    const disposition = dispositionOf({ outcome } as Pick<ScheduleOutcome, "outcome">);
    expect(exitFor(disposition)).toBe(status);
  });

  it("are 0 acknowledge, 1 dead-letter or invalid, 2 usage, 3 retry", () => {
    expect(EXIT).toEqual({ done: 0, invalid: 1, usage: 2, unavailable: 3 });
    expect(exitFor("acknowledge")).toBe(0);
    expect(exitFor("dead-letter")).toBe(1);
    expect(exitFor("retry")).toBe(3);
  });

  it.each([
    ["a usage error", new UsageError("validate needs a directory"), EXIT.usage],
    ["invalid settings", new InvalidSettingsError([{ path: "--namespace", message: "x" }]), 1],
    ["an invalid event", new InvalidEventError([{ path: "", message: "x" }]), EXIT.invalid],
    ["input too large", new InputTooLargeError(1024), EXIT.invalid],
    ["EKS credentials not had yet", new EksAuthError("EKS_CREDENTIALS", "expired"), 3],
    ["an EKS cluster that does not exist", new EksAuthError("EKS_CLUSTER_NOT_FOUND", "no"), 1],
    [
      "a pod library that cannot be read now",
      new PodLibraryUnavailableError("s3 down", { retryable: true }),
      3,
    ],
    ["a pod library with nothing in it", new PodLibraryUnavailableError("empty"), 1],
    ["anything unexpected", new Error("boom"), EXIT.invalid],
  ])("an error ending a command: %s", (_, error, status) => {
    expect(exitForError(error)).toBe(status);
  });
});

describe("exit statuses of the command", () => {
  it("0 for help, 2 for a usage error, 1 for invalid settings", async () => {
    // Act
    const help = await cli(["schedule", "--help"]);
    const unknown = await cli(["schedule", "--event", SAMPLE_EVENT, "--nope"]);
    const missing = await cli(["schedule"]);
    const choice = await cli(["schedule", "--event", SAMPLE_EVENT, "--log-level", "warn"]);
    const invalid = await cli(["schedule", "--event", SAMPLE_EVENT, "--namespace", "Bad NS"]);

    // Assess
    expect(help.status).toBe(0);
    expect(unknown).toMatchObject({
      status: 2,
      stderr: "ondemand-eks: error: unknown option '--nope'\n",
    });
    expect(missing.status).toBe(2);
    // --log-level belongs to the long-running commands only.
    expect(choice).toMatchObject({ status: 2, stderr: expect.stringContaining("'--log-level'") });
    expect(invalid).toEqual({
      status: 1,
      stdout: "",
      stderr:
        "ondemand-eks: error: --namespace: expected a Kubernetes namespace name (RFC 1123 label)\n",
    });
  });

  it("2 for a flag whose value does not parse, naming every such flag; 1 for the same from elsewhere", async () => {
    // Prepare
    const args = ["schedule", "--event", SAMPLE_EVENT];
    const config = tempDir({ "settings.yaml": "submitTimeoutSeconds: abc\n" });

    // Act
    const word = await cli([...args, "--timeout", "abc"]);
    const range = await cli([...args, "--timeout", "0"]);
    const two = await cli([...args, "--timeout", "abc", "--ttl-seconds-after-finished", "x"]);
    const fromEnv = await cli(args, { env: { ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "abc" } });
    const fromFile = await cli([...args, "--config", join(config, "settings.yaml")]);
    const server = await cli(["serve", "http", "--port", "http"]);

    // Assess
    expect(word).toEqual({
      status: 2,
      stdout: "",
      stderr: 'ondemand-eks: error: --timeout: expected seconds from 0.1 to 3600, received "abc"\n',
    });
    expect(range).toMatchObject({ status: 2, stderr: expect.stringContaining('received "0"') });
    expect(two.status).toBe(2);
    expect(two.stderr).toMatch(/^ondemand-eks: error: 2 problems:\n/);
    expect(two.stderr).toContain(
      '\n  --timeout: expected seconds from 0.1 to 3600, received "abc"\n',
    );
    expect(two.stderr).toContain("\n  --ttl-seconds-after-finished: expected a whole number");
    expect(fromEnv).toEqual({
      status: 1,
      stdout: "",
      stderr:
        'ondemand-eks: error: ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: expected seconds from 0.1 to 3600, received "abc"\n',
    });
    expect(fromFile).toMatchObject({
      status: 1,
      stderr: expect.stringContaining(": submitTimeoutSeconds: expected seconds"),
    });
    expect(server).toMatchObject({ status: 2, stderr: expect.stringMatching(/--port: expected/) });
  });

  it("2 when validate is given an S3 library: it checks directories", async () => {
    const result = await cli(["validate", "--library", "s3://my-bucket/pods/"]);
    expect(result).toEqual({
      status: 2,
      stdout: "",
      stderr:
        "ondemand-eks: error: validate checks a library directory (an S3 library is checked as each entry point loads it)\n",
    });
  });
});
