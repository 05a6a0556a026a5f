import { buildPodLibrary, formatProblem } from "@ondemand-eks/pod-library";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** Builds a library from definitions given as objects (what YAML parses to), no I/O. */
function build(...definitions: Record<string, unknown>[]) {
  return buildPodLibrary(
    definitions.map((content) => ({
      file: `${content.name}.yaml`,
      stem: String(content.name),
      content,
    })),
  );
}

const agent = { image: "buildkite/agent:3" };
const dind = {
  name: "dind",
  agent,
  services: [{ name: "dockerd", image: "docker:27-dind", securityContext: { privileged: true } }],
  privilege: ["privileged"],
  access: { organizations: ["acme"], pipelines: [], branches: ["main"] },
};

describe("extends: access and privilege", () => {
  it("a child that says nothing inherits its parent's access and privilege", () => {
    const { library, problems } = build(dind, { name: "child", extends: "dind" });
    expect(problems).toEqual([]);
    expect(library?.get("child").access).toEqual(dind.access);
    expect(library?.get("child").privilege).toEqual(["privileged"]);
  });

  it("merges access rule by rule: a child's rule replaces its parent's, the parent's others stay", () => {
    // Act: the child opens the pipelines rule; the branch and organization rules remain.
    const { library } = build(dind, {
      name: "child",
      extends: "dind",
      access: { pipelines: ["acme/infra-*"] },
    });

    // Assess
    expect(library?.get("child").access).toEqual({
      organizations: ["acme"],
      pipelines: ["acme/infra-*"],
      branches: ["main"],
    });
  });

  it("null removes an inherited rule, or the whole access; a privileged child must then name its users", () => {
    const rule = build(dind, { name: "child", extends: "dind", access: { branches: null } });
    expect(rule.library?.get("child").access).toEqual({ organizations: ["acme"], pipelines: [] });

    const whole = build(dind, { name: "child", extends: "dind", access: null });
    expect(whole.problems.map(formatProblem)).toEqual([
      "child.yaml: access: required: this definition needs privilege (privileged), so it must say who may use it (queues, organizations, pipelines or branches)",
    ]);
  });

  it("a child's privilege list replaces its parent's, and must still match its pod", () => {
    // Prepare: the child adds a hostPath volume.
    const withHostPath = {
      name: "child",
      extends: "dind",
      pod: { volumes: [{ name: "cache", hostPath: { path: "/var/cache/ci" } }] },
    };

    // Act
    const unlisted = build(dind, withHostPath);
    const listed = build(dind, { ...withHostPath, privilege: ["privileged", "host-path"] });
    const partial = build(dind, { ...withHostPath, privilege: ["host-path"] });

    // Assess
    expect(unlisted.problems.map(formatProblem)).toEqual([
      'child.yaml: pod.volumes[0].hostPath: needs privilege "host-path" (a path on the node\'s filesystem): add it to privilege',
    ]);
    expect(listed.problems).toEqual([]);
    expect(listed.library?.get("child").privilege).toEqual(["privileged", "host-path"]);
    expect(partial.problems.map(formatProblem)).toEqual([
      'child.yaml: services[0].securityContext.privileged: needs privilege "privileged" (a privileged container, with full access to the node): add it to privilege',
    ]);
  });

  it("property: the merged access is the parent's rules with the child's over them, key by key", () => {
    const rules = fc.record(
      {
        queues: fc.array(fc.constantFrom("default", "docker", "deploy"), { maxLength: 2 }),
        organizations: fc.array(fc.constantFrom("acme", "*", "other"), { maxLength: 2 }),
        pipelines: fc.array(fc.constantFrom("acme/*", "*/deploy-*", "acme/web"), { maxLength: 2 }),
        branches: fc.array(fc.constantFrom("main", "release/*", "**"), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.option(rules, { nil: undefined }),
        fc.option(rules, { nil: undefined }),
        (parent, child) => {
          // Act
          const { library, problems } = build(
            { name: "base", agent, ...(parent === undefined ? {} : { access: parent }) },
            { name: "child", extends: "base", ...(child === undefined ? {} : { access: child }) },
          );

          // Assess
          expect(problems).toEqual([]);
          const expected =
            parent === undefined && child === undefined ? undefined : { ...parent, ...child };
          expect(library?.get("child").access).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
