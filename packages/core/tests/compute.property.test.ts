import { buildDeployment, buildJob, type PodDefinition } from "@ondemand-eks/core";
import type { PodSpec } from "@ondemand-eks/core/manifest";
import {
  FARGATE_SIZES,
  fargateSize,
  PRIVILEGE_FEATURES,
  safeParsePodDefinition,
} from "@ondemand-eks/core/pod-definition";
import { arbitraries } from "@ondemand-eks/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { podRequests } from "../src/pod-definition/fargate-size.js";
import { type PodDefinitionDraft, usePrivilege } from "../src/testing/privilege.js";
import { scheduledJob, settings } from "./helpers/fixtures.js";

const NUM_RUNS = 200;
const queues = ["default"];
const job = scheduledJob();

/** The pod spec and labels a definition renders to, as a Job or a Deployment. */
function podOf(definition: PodDefinition): { spec: PodSpec; labels: Record<string, string> } {
  const template =
    definition.mode === "one-shot"
      ? buildJob({ job, queue: "default", definition, settings: settings({ queues }) }).spec
          .template
      : buildDeployment({ definition, settings: settings({ queues }) }).spec.template;
  return { spec: template.spec, labels: template.metadata.labels };
}

const allContainers = (spec: PodSpec) => [...(spec.initContainers ?? []), ...spec.containers];

/** How often the NotIn-fargate requirement appears in each required term. */
function notFargateCounts(spec: PodSpec): number[] {
  const terms =
    (
      spec.affinity as
        | {
            nodeAffinity?: {
              requiredDuringSchedulingIgnoredDuringExecution?: {
                nodeSelectorTerms?: {
                  matchExpressions?: { key: string; operator: string; values?: string[] }[];
                }[];
              };
            };
          }
        | undefined
    )?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  return terms.map(
    (term) =>
      (term.matchExpressions ?? []).filter(
        (e) =>
          e.key === "eks.amazonaws.com/compute-type" &&
          e.operator === "NotIn" &&
          e.values?.includes("fargate"),
      ).length,
  );
}

/** Required node affinity an ec2 definition may bring: terms, some already keeping off Fargate. */
const ownTerms = fc.array(
  fc.record({
    arch: fc.boolean(),
    notFargate: fc.boolean(),
  }),
  { maxLength: 3 },
);

describe("compute: fargate", () => {
  it("every generated Fargate definition renders a pod Fargate runs: labelled for the profile, nothing privileged, no hostPath, no host namespaces, no node affinity", () => {
    fc.assert(
      fc.property(arbitraries.podDefinition({ compute: "fargate" }), (definition) => {
        const { spec, labels } = podOf(definition);
        expect(labels["ondemand-eks.io/compute"]).toBe("fargate");
        for (const container of allContainers(spec)) {
          const context = container.securityContext as Record<string, unknown> | undefined;
          expect(context?.privileged).not.toBe(true);
          expect((context?.capabilities as { add?: unknown[] } | undefined)?.add ?? []).toEqual([]);
          expect(
            (container.ports as { hostPort?: number }[] | undefined)?.some((p) => p.hostPort),
          ).not.toBe(true);
        }
        expect(((spec.volumes ?? []) as { hostPath?: unknown }[]).some((v) => v.hostPath)).toBe(
          false,
        );
        expect([spec.hostNetwork, spec.hostPID, spec.hostIPC]).not.toContain(true);
        expect(spec.affinity).toBeUndefined();
        expect(definition.privilege.every((feature) => feature === "service-account")).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("a Fargate definition given any privileged feature but a service account is refused, at that feature's field", () => {
    const features = PRIVILEGE_FEATURES.filter((feature) => feature !== "service-account");
    fc.assert(
      fc.property(
        arbitraries.podDefinitionInput({ compute: "fargate", mode: "one-shot" }),
        fc.constantFrom(...features),
        fc.constantFrom("agent" as const, "init" as const, "service" as const),
        (input, feature, where) => {
          // Prepare: the feature, acknowledged, so only the Fargate check objects.
          const draft = structuredClone(input) as unknown as PodDefinitionDraft;
          usePrivilege(draft, feature, where);
          draft.privilege = [...((draft.privilege as string[] | undefined) ?? []), feature];
          draft.access = { pipelines: ["acme/*"] };

          // Act
          const result = safeParsePodDefinition(draft);

          // Assess
          expect(result.success).toBe(false);
          if (result.success) return;
          expect(
            result.error.issues.some((issue) =>
              issue.message.endsWith("remove it, or set compute: ec2"),
            ),
          ).toBe(true);
          // The same definition on EC2 is fine: the refusal is Fargate's alone.
          expect(safeParsePodDefinition({ ...draft, compute: "ec2" }).success).toBe(true);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("compute: ec2", () => {
  it("renders the NotIn-fargate requirement exactly once in every required term that has requirements, whatever affinity the definition brings, keeping its own", () => {
    fc.assert(
      fc.property(arbitraries.podDefinitionInput({ compute: "ec2" }), ownTerms, (input, terms) => {
        // Prepare
        const arch = { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] };
        const notFargate = {
          key: "eks.amazonaws.com/compute-type",
          operator: "NotIn",
          values: ["fargate"],
        };
        const pod = {
          ...input.pod,
          ...(terms.length > 0
            ? {
                affinity: {
                  nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                      nodeSelectorTerms: terms.map((t) => ({
                        matchExpressions: [
                          ...(t.arch ? [arch] : []),
                          ...(t.notFargate ? [notFargate] : []),
                        ],
                      })),
                    },
                  },
                },
              }
            : {}),
        };
        const parsed = safeParsePodDefinition({ ...input, pod });
        if (!parsed.success) throw parsed.error;

        // Act
        const { spec } = podOf(parsed.data);

        // Assess
        // A term with no requirement matches no node, and is left so.
        const counts = notFargateCounts(spec);
        expect(counts).toEqual(
          terms.length === 0 ? [1] : terms.map((t) => (t.arch || t.notFargate ? 1 : 0)),
        );
        const rendered = JSON.stringify(spec.affinity);
        expect(rendered.split('"kubernetes.io/arch"').length - 1).toBe(
          terms.filter((t) => t.arch).length,
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("any (or none said) renders no compute label and no affinity the definition did not write", () => {
    fc.assert(
      fc.property(arbitraries.podDefinition({ compute: "any" }), (definition) => {
        const { spec, labels } = podOf(definition);
        expect(labels).not.toHaveProperty("ondemand-eks.io/compute");
        expect(spec.affinity).toEqual(definition.pod.affinity);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("Fargate sizing", () => {
  const size = fc.record({
    cpu: fc.double({ min: 0, max: 17, noNaN: true }),
    memory: fc.integer({ min: 0, max: 125 * 2 ** 30 }),
  });

  it("fargateSize: holds the requests and Fargate's 256 MiB, and no smaller size would", () => {
    fc.assert(
      fc.property(size, (requests) => {
        const chosen = fargateSize(requests);
        const fits = (s: { cpu: number; memory: number }) =>
          s.cpu >= requests.cpu && s.memory >= requests.memory + 256 * 2 ** 20;
        if (!chosen) {
          expect(FARGATE_SIZES.some(fits)).toBe(false);
          return;
        }
        expect(fits(chosen)).toBe(true);
        const earlier = FARGATE_SIZES.slice(0, FARGATE_SIZES.indexOf(chosen));
        expect(earlier.some(fits)).toBe(false);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("podRequests: at least every container alone, at most all of them together", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            kind: fc.constantFrom("init" as const, "sidecar" as const, "main" as const),
            requests: size,
          }),
        ),
        (containers) => {
          const total = podRequests(containers);
          const sum = containers.reduce(
            (a, c) => ({ cpu: a.cpu + c.requests.cpu, memory: a.memory + c.requests.memory }),
            { cpu: 0, memory: 0 },
          );
          for (const c of containers) {
            expect(total.cpu).toBeGreaterThanOrEqual(c.requests.cpu);
            expect(total.memory).toBeGreaterThanOrEqual(c.requests.memory);
          }
          expect(total.cpu).toBeLessThanOrEqual(sum.cpu + 1e-9);
          expect(total.memory).toBeLessThanOrEqual(sum.memory);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
