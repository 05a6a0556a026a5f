import type { Issue } from "@ondemand-eks/core";
import {
  checkPodDefinition,
  PRIVILEGE_FEATURES,
  privilegeUses,
  safeParsePodDefinitionSource,
} from "@ondemand-eks/core/pod-definition";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type PodDefinitionDraft,
  usePrivilege,
  type PrivilegeWhere as Where,
} from "../src/testing/privilege.js";

const NUM_RUNS = 200;

type Feature = (typeof PRIVILEGE_FEATURES)[number];

/** A definition using `features`, each in a container of the generator's choice. */
const usesArb = fc.uniqueArray(
  fc.record({
    feature: fc.constantFrom(...PRIVILEGE_FEATURES),
    where: fc.constantFrom<Where>("agent", "init", "service"),
  }),
  { selector: (u) => u.feature, maxLength: PRIVILEGE_FEATURES.length },
);

function sourceWith(uses: readonly { feature: Feature; where: Where }[], privilege: string[]) {
  const source: PodDefinitionDraft = {
    name: "p",
    agent: { image: "buildkite/agent:3" },
    pod: { initContainers: [{ name: "init", image: "busybox" }], volumes: [] },
    services: [{ name: "svc", image: "redis" }],
    access: { pipelines: ["acme/*"] },
    privilege,
  };
  for (const { feature, where } of uses) usePrivilege(source, feature, where);
  const parsed = safeParsePodDefinitionSource(source);
  if (!parsed.success) throw parsed.error;
  return parsed.data;
}

const issuesOf = (result: ReturnType<typeof checkPodDefinition>): Issue[] =>
  result.success ? [] : [...result.error.issues];

describe("privilege invariants", () => {
  it("a definition is accepted exactly when its privilege list is what the pod uses", () => {
    fc.assert(
      fc.property(usesArb, fc.subarray([...PRIVILEGE_FEATURES]), (uses, listed) => {
        // Act
        const result = checkPodDefinition(sourceWith(uses, listed));

        // Assess
        const used = new Set(uses.map((u) => u.feature));
        const same = used.size === listed.length && listed.every((f) => used.has(f));
        expect(result.success).toBe(same);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("privilegeUses finds every feature put in, at least once, and nothing else", () => {
    fc.assert(
      fc.property(usesArb, (uses) => {
        const features = uses.map((u) => u.feature);
        const result = checkPodDefinition(sourceWith(uses, features));
        if (!result.success) throw result.error;
        expect(new Set(privilegeUses(result.data).map((u) => u.feature))).toEqual(
          new Set(features),
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("adding a feature later without listing it fails, at the place it was added", () => {
    fc.assert(
      fc.property(
        usesArb,
        fc.constantFrom(...PRIVILEGE_FEATURES),
        fc.constantFrom<Where>("agent", "init", "service"),
        (uses, added, where) => {
          fc.pre(!uses.some((u) => u.feature === added));
          const listed = uses.map((u) => u.feature);
          const result = checkPodDefinition(
            sourceWith([...uses, { feature: added, where }], listed),
          );
          expect(result.success).toBe(false);
          const issues = issuesOf(result);
          expect(issues.length).toBeGreaterThan(0);
          for (const issue of issues) {
            expect(issue.message).toBe(
              `needs privilege "${added}" (${issue.message.match(/\((.+)\)/)?.[1]}): add it to privilege`,
            );
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("a definition that needs privilege and names nobody is refused", () => {
    fc.assert(
      fc.property(
        usesArb.filter((u) => u.length > 0),
        (uses) => {
          const features = uses.map((u) => u.feature);
          const source = { ...sourceWith(uses, features), access: undefined };
          expect(issuesOf(checkPodDefinition(source)).map((i) => i.path)).toEqual(["access"]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
