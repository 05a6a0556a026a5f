import { buildDeployment, buildJob, type PodDefinition } from "@ondemand-eks/core";
import type { PodSpec } from "@ondemand-eks/core/manifest";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deepFreeze, podDefinition, scheduledJob, settings } from "./helpers/fixtures.js";

const NUM_RUNS = 200;

/** The pod spec of both builders for `definition` (a Job, and a Deployment of the same pod). */
function specs(definition: Record<string, unknown>): { job: PodSpec; deployment: PodSpec } {
  const oneShot = podDefinition(definition);
  // A long-polling pod's users are whoever may target its queue: it takes no access rules.
  const { access: _access, ...shared } = definition;
  const longPolling: PodDefinition = podDefinition({
    ...shared,
    mode: "long-polling",
    longPolling: { queue: "linux" },
  });
  return {
    job: buildJob({
      job: scheduledJob(),
      queue: "default",
      definition: oneShot,
      settings: settings(),
    }).spec.template.spec,
    deployment: buildDeployment({ definition: longPolling, settings: settings() }).spec.template
      .spec,
  };
}

const RESTRICTIVE = {
  automountServiceAccountToken: false,
  enableServiceLinks: false,
  securityContext: { seccompProfile: { type: "RuntimeDefault" } },
};

describe("restrictive pod defaults", () => {
  it("gives Jobs and Deployments no API token, no service links and the runtime's seccomp profile", () => {
    const { job, deployment } = specs({});
    expect(job).toMatchObject(RESTRICTIVE);
    expect(deployment).toMatchObject(RESTRICTIVE);
  });

  it("keeps what a definition sets, and adds seccomp to its own security context", () => {
    // Act
    const { job, deployment } = specs({
      pod: {
        automountServiceAccountToken: true,
        enableServiceLinks: true,
        securityContext: { runAsUser: 1000, fsGroup: 1000 },
      },
      privilege: ["service-account"],
      access: { pipelines: ["acme/*"] },
    });

    // Assess
    for (const spec of [job, deployment]) {
      expect(spec.automountServiceAccountToken).toBe(true);
      expect(spec.enableServiceLinks).toBe(true);
      expect(spec.securityContext).toEqual({
        runAsUser: 1000,
        fsGroup: 1000,
        seccompProfile: { type: "RuntimeDefault" },
      });
    }
  });

  it("keeps a definition's own seccomp profile", () => {
    const localhost = { type: "Localhost", localhostProfile: "profiles/ci.json" };
    const { job } = specs({ pod: { securityContext: { seccompProfile: localhost } } });
    expect(job.securityContext).toEqual({ seccompProfile: localhost });
  });

  it("property: each default is there unless the definition sets that field, whose value is kept", () => {
    const podArb = fc.record(
      {
        automountServiceAccountToken: fc.boolean(),
        enableServiceLinks: fc.boolean(),
        securityContext: fc.record(
          {
            runAsUser: fc.integer({ min: 1, max: 65_535 }),
            runAsNonRoot: fc.constant(true),
            seccompProfile: fc.constantFrom(
              { type: "RuntimeDefault" },
              { type: "Localhost", localhostProfile: "ci.json" },
            ),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(podArb, (pod) => {
        // Prepare: a token mounted on purpose is privilege, acknowledged as such.
        const needs = pod.automountServiceAccountToken === true;
        const definition = {
          pod: deepFreeze(structuredClone(pod)),
          ...(needs ? { privilege: ["service-account"], access: { queues: ["default"] } } : {}),
        };

        // Act
        const { job, deployment } = specs(definition);

        // Assess
        for (const spec of [job, deployment]) {
          expect(spec.automountServiceAccountToken).toBe(pod.automountServiceAccountToken ?? false);
          expect(spec.enableServiceLinks).toBe(pod.enableServiceLinks ?? false);
          expect(spec.securityContext).toEqual({
            ...pod.securityContext,
            seccompProfile: pod.securityContext?.seccompProfile ?? { type: "RuntimeDefault" },
          });
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
