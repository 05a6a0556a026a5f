import { type PodLike, startFailureOf } from "@ondemand-eks/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const START = Date.parse("2026-12-01T10:00:00Z");
const LIMITS = { graceMs: 30_000, pendingTimeoutMs: 900_000 };
const at = (seconds: number) => ({ ...LIMITS, now: START + seconds * 1000 });

/** A pending pod whose agent container waits for `reason`. */
const waiting = (reason: string, message = "", image = "acme/ci:9"): PodLike => ({
  status: {
    phase: "Pending",
    startTime: new Date(START),
    containerStatuses: [{ name: "agent", image, state: { waiting: { reason, message } } }],
  },
});

describe("startFailureOf: why a pod will not start its agent", () => {
  it("fails an invalid image name at once", () => {
    expect(startFailureOf(waiting("InvalidImageName", "", "Acme/CI"), at(0))).toEqual({
      reason: "InvalidImageName",
      detail:
        'container "agent": image "Acme/CI" is not a valid image reference (InvalidImageName); fix the image in the pod definition',
    });
  });

  it("gives image pull errors and missing configuration the grace, then fails them", () => {
    for (const reason of ["ErrImagePull", "ImagePullBackOff"]) {
      expect(startFailureOf(waiting(reason), at(29))).toBeUndefined();
      expect(startFailureOf(waiting(reason, "not found"), at(31))).toEqual({
        reason: "ImagePull",
        detail: `container "agent": image "acme/ci:9" could not be pulled for 31 s (${reason}): not found`,
      });
    }
    const config = waiting("CreateContainerConfigError", 'secret "token" not found');
    expect(startFailureOf(config, at(29))).toBeUndefined();
    expect(startFailureOf(config, at(30))?.detail).toBe(
      'container "agent" could not be configured for 30 s (CreateContainerConfigError): secret "token" not found; a Secret or ConfigMap it reads is missing',
    );
  });

  it("fails a failed init container at once, before the agent started", () => {
    const pod: PodLike = {
      status: {
        phase: "Failed",
        startTime: new Date(START),
        initContainerStatuses: [
          { name: "copy-agent", state: { terminated: { exitCode: 1, reason: "Error" } } },
        ],
      },
    };
    expect(startFailureOf(pod, at(1))).toEqual({
      reason: "InitContainerFailed",
      detail: 'init container "copy-agent" exited with status 1 (Error) before the agent started',
    });
  });

  it("says why the scheduler could not place a pod pending past the timeout", () => {
    const pod: PodLike = {
      status: {
        phase: "Pending",
        conditions: [
          {
            type: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message: "0/2 nodes are available: 2 Insufficient cpu.",
          },
        ],
      },
      metadata: { creationTimestamp: new Date(START) },
    };
    expect(startFailureOf(pod, at(899))).toBeUndefined();
    expect(startFailureOf(pod, at(900))).toEqual({
      reason: "Unschedulable",
      detail:
        "the pod could not be scheduled for 900 s: 0/2 nodes are available: 2 Insufficient cpu.",
    });
  });

  it("never fails a running or finished pod, nor a pull error within the grace (any times)", () => {
    fc.assert(
      fc.property(fc.nat(29_999), fc.constantFrom("Running", "Succeeded"), (ms, phase) => {
        expect(startFailureOf(waiting("ImagePullBackOff"), { ...LIMITS, now: START + ms })).toBe(
          undefined,
        );
        expect(startFailureOf({ status: { phase, startTime: new Date(START) } }, at(10_000))).toBe(
          undefined,
        );
      }),
    );
  });
});
