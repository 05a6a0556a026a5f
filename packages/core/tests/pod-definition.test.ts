import {
  definePodDefinition,
  formatIssues,
  InvalidPodDefinitionError,
  parsePodDefinition,
} from "@ondemand-eks/core";
import {
  checkPodDefinition,
  safeParsePodDefinitionSource,
} from "@ondemand-eks/core/pod-definition";
import { describe, expect, it } from "vitest";
import { issuesOf } from "./helpers/fixtures.js";

const agent = { image: "buildkite/agent:3" };

describe("definePodDefinition", () => {
  it("fills in defaults", () => {
    expect(definePodDefinition({ name: "small", agent })).toEqual({
      name: "small",
      description: undefined,
      mode: "one-shot",
      agent,
      pod: {},
      metadata: {},
      services: [],
      longPolling: undefined,
      access: undefined,
      privilege: [],
      compute: "any",
    });
  });

  it.each([
    [
      { name: "Bad_Name", agent },
      ['name: expected lower-case letters, digits and "-" (an RFC 1123 label)'],
    ],
    [
      { name: "x" },
      [
        "agent.image: required: the agent container's image (set here or in the definition this extends)",
      ],
    ],
    [{ name: "x", agent, servics: [] }, ['unknown field "servics"']],
    [
      { name: "x", agent: { ...agent, name: "main" } },
      ['agent.name: the agent container is always named "agent"; remove "name"'],
    ],
    [
      {
        name: "x",
        agent: { ...agent, env: [{ name: "BUILDKITE_AGENT_TOKEN", value: "literal" }] },
      },
      ["agent.env[0]: BUILDKITE_AGENT_TOKEN is set by the scheduler; remove it"],
    ],
    [
      {
        name: "x",
        agent: {
          ...agent,
          env: [
            { name: "A", value: "1" },
            { name: "BUILDKITE_AGENT_ENDPOINT", value: "https://elsewhere.example.com/v3" },
          ],
        },
      },
      ["agent.env[1]: BUILDKITE_AGENT_ENDPOINT is set by the scheduler; remove it"],
    ],
    [
      {
        name: "x",
        agent,
        services: [{ name: "s", image: "i", env: [{ name: "BUILDKITE_AGENT_TOKEN", value: "t" }] }],
      },
      [
        "services[0].env[0]: a literal agent token is not allowed; reference a Secret with valueFrom",
      ],
    ],
    [
      { name: "x", agent: { ...agent, tags: { queue: "other" } } },
      ['agent.tags.queue: the "queue" tag is set by the scheduler from the job; remove it'],
    ],
    [
      { name: "x", agent: { ...agent, tags: { os: "a,b" } } },
      ["agent.tags.os: expected a tag value without commas or newlines"],
    ],
    [
      { name: "x", agent, services: [{ name: "agent", image: "postgres" }] },
      ['services[0].name: container name "agent" is already used by agent'],
    ],
    [
      {
        name: "x",
        agent,
        services: [
          { name: "db", image: "a" },
          { name: "db", image: "b" },
        ],
      },
      ['services[1].name: container name "db" is already used by services[0]'],
    ],
    [
      { name: "x", agent, services: [{ name: "db", image: "a", restartPolicy: "OnFailure" }] },
      [
        'services[0].restartPolicy: services always restart: leave restartPolicy out (it is "Always")',
      ],
    ],
    [
      { name: "x", agent, pod: { containers: [{ name: "extra" }] } },
      [
        'pod.containers: main containers are not allowed: configure the agent under "agent" and helpers under "services"',
      ],
    ],
    [
      { name: "x", agent, pod: { restartPolicy: "Always" } },
      ["pod.restartPolicy: set by the scheduler (Never for Jobs, Always for Deployments)"],
    ],
    [
      { name: "x", agent: { ...agent, volumeMounts: [{ name: "missing", mountPath: "/m" }] } },
      ['agent.volumeMounts[0].name: no volume named "missing" in pod.volumes'],
    ],
    [
      {
        name: "x",
        agent,
        pod: {
          volumes: [
            { name: "v", emptyDir: {} },
            { name: "v", emptyDir: {} },
          ],
        },
      },
      ['pod.volumes[1].name: volume name "v" is used twice'],
    ],
    [
      { name: "x", agent, mode: "long-polling" },
      ['longPolling: required for mode "long-polling" (at least a queue)'],
    ],
    [
      { name: "x", agent, longPolling: { queue: "q" } },
      ['longPolling: applies only to mode "long-polling"'],
    ],
    [{ name: "x", agent, mode: "sometimes" }, ['mode: expected "one-shot" or "long-polling"']],
    [
      { name: "x", agent, metadata: { labels: { team: "has space" } } },
      ["metadata.labels.team: expected a label value (at most 63 of A-Z a-z 0-9 . _ -)"],
    ],
    [
      { name: "x", agent, services: [{ name: "db" }] },
      ["services[0].image: required: the container's image"],
    ],
    [
      { name: "x", agent: { ...agent, restartPolicy: "Always" } },
      ["agent.restartPolicy: the agent is the pod's main container: leave restartPolicy out"],
    ],
    [
      { name: "x", agent: { ...agent, env: [{ name: "A=B", value: "1" }] } },
      ['agent.env[0].name: expected a variable name without "="'],
    ],
    [
      { name: "x", agent, pod: { ephemeralContainers: [] } },
      [
        "pod.ephemeralContainers: ephemeral containers are for debugging a running pod, not for definitions",
      ],
    ],
    [
      {
        name: "x",
        agent: {
          ...agent,
          volumeMounts: [
            { name: "v", mountPath: "/a" },
            { name: "v", mountPath: "/a" },
          ],
        },
        pod: { volumes: [{ name: "v", emptyDir: {} }] },
      },
      ['agent.volumeMounts[1].mountPath: "/a" is mounted twice'],
    ],
    [
      {
        name: "x",
        agent,
        pod: { initContainers: [{ name: "i", image: "i", readinessProbe: {} }] },
      },
      [
        "pod.initContainers[0].readinessProbe: probes run only on services (sidecars), not on init containers that run to completion",
      ],
    ],
    [
      {
        name: "x",
        agent,
        mode: "long-polling",
        longPolling: { queue: "q" },
        pod: { activeDeadlineSeconds: 60 },
      },
      [
        "pod.activeDeadlineSeconds: a Deployment's pods run until replaced: remove it for long-polling",
      ],
    ],
    [
      {
        name: "x",
        agent: {
          ...agent,
          env: [{ name: "A", value: "1", valueFrom: { fieldRef: { fieldPath: "x" } } }],
        },
      },
      ["agent.env[0]: set value or valueFrom, not both"],
    ],
  ])("%j", (input, expected) => {
    expect(issuesOf(input)).toEqual(expected);
  });

  it("reports every problem at once", () => {
    expect(
      issuesOf({ name: "x", mode: "long-polling", services: [{ name: "agent", image: "i" }] }),
    ).toHaveLength(3);
  });

  it("asks for extends to be resolved by the pod library", () => {
    expect(issuesOf({ name: "x", extends: "default" })).toEqual([
      "extends: resolve extends with @ondemand-eks/pod-library before defining",
    ]);
  });
});

describe("safeParsePodDefinitionSource and checkPodDefinition (what the pod library runs)", () => {
  it("reads a source as written, extends and all, or names every bad field", () => {
    expect(safeParsePodDefinitionSource({ name: "x", extends: "default" })).toEqual({
      success: true,
      data: { name: "x", extends: "default" },
    });
    const bad = safeParsePodDefinitionSource({ name: "X", servics: [] });
    expect(bad.success).toBe(false);
    if (bad.success) return;
    expect(bad.error).toBeInstanceOf(InvalidPodDefinitionError);
    expect(bad.error.issues.map((i) => i.path)).toEqual(["name", ""]);
  });

  it("completes a resolved source, or returns every issue without throwing", () => {
    // Act
    const good = checkPodDefinition({ name: "x", agent, longPolling: undefined });
    const bad = checkPodDefinition({ name: "x", mode: "long-polling" });

    // Assess
    expect(good).toEqual({ success: true, data: definePodDefinition({ name: "x", agent }) });
    expect(bad.success).toBe(false);
    if (bad.success) return;
    expect(formatIssues(bad.error.issues).split("\n")).toEqual([
      "agent.image: required: the agent container's image (set here or in the definition this extends)",
      'longPolling: required for mode "long-polling" (at least a queue)',
    ]);
  });
});

describe("longPolling: a fixed or a scaled pool", () => {
  const pool = (longPolling: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({
    name: "pool",
    agent,
    mode: "long-polling",
    longPolling: { queue: "linux", ...longPolling },
    ...rest,
  });

  it("gives a fixed pool one replica and an hour to finish a job, unless told otherwise", () => {
    expect(parsePodDefinition(pool({})).longPolling).toEqual({
      queue: "linux",
      replicas: 1,
      stopGraceSeconds: 3600,
    });
    expect(parsePodDefinition(pool({ replicas: 4, stopGraceSeconds: 60 })).longPolling).toEqual({
      queue: "linux",
      replicas: 4,
      stopGraceSeconds: 60,
    });
  });

  it("fills in every scaling default from maxReplicas alone, and starts the pool at its floor", () => {
    expect(parsePodDefinition(pool({ scaling: { maxReplicas: 8 } })).longPolling).toEqual({
      queue: "linux",
      replicas: 0,
      stopGraceSeconds: 3600,
      scaling: {
        minReplicas: 0,
        maxReplicas: 8,
        agentsPerPod: 1,
        idleAgents: 0,
        maxScaleOutStep: 8,
        scaleOutCooldownSeconds: 0,
        scaleInCooldownSeconds: 300,
        scaleIn: true,
      },
    });
  });

  it("keeps every scaling field given", () => {
    const scaling = {
      minReplicas: 2,
      maxReplicas: 20,
      agentsPerPod: 4,
      idleAgents: 3,
      maxScaleOutStep: 5,
      scaleOutCooldownSeconds: 30,
      scaleInCooldownSeconds: 600,
      scaleIn: false,
    };
    const parsed = parsePodDefinition(pool({ scaling, stopGraceSeconds: 7200 })).longPolling;
    expect(parsed).toEqual({ queue: "linux", replicas: 2, scaling, stopGraceSeconds: 7200 });
  });

  it.each([
    [
      pool({ replicas: 2, scaling: { maxReplicas: 4 } }),
      [
        "longPolling.replicas: cannot be set with longPolling.scaling (a scaled pool's size follows its queue, from minReplicas to maxReplicas): remove replicas, or set it to null under extends, or remove scaling for a fixed pool",
      ],
    ],
    [
      pool({ scaling: { minReplicas: 5, maxReplicas: 4 } }),
      ["longPolling.scaling.minReplicas: expected at most maxReplicas (4), got 5"],
    ],
    [
      pool({ scaling: { minReplicas: 1 } }),
      ["longPolling.scaling.maxReplicas: required: expected a whole number from 1 to 1000"],
    ],
    [
      pool({ scaling: { maxReplicas: 1001 } }),
      ["longPolling.scaling.maxReplicas: expected at most 1000"],
    ],
    [
      pool({ scaling: { maxReplicas: 0 } }),
      ["longPolling.scaling.maxReplicas: expected at least 1"],
    ],
    [
      pool({ scaling: { maxReplicas: 2, agentsPerPod: 1.5 } }),
      ["longPolling.scaling.agentsPerPod: expected a whole number from 1 to 100"],
    ],
    [
      pool({ scaling: { maxReplicas: 2, scaleIn: "no" } }),
      ["longPolling.scaling.scaleIn: expected true or false"],
    ],
    [
      pool({ scaling: { maxReplicas: 2, scaleInCooldown: 60 } }),
      ['longPolling.scaling: unknown field "scaleInCooldown"'],
    ],
    [pool({ replicas: -1 }), ["longPolling.replicas: expected at least 0"]],
    [pool({ stopGraceSeconds: 86_401 }), ["longPolling.stopGraceSeconds: expected at most 86400"]],
    [
      pool({}, { pod: { terminationGracePeriodSeconds: 30 } }),
      [
        "pod.terminationGracePeriodSeconds: set by longPolling.stopGraceSeconds for long-polling pods: move it there",
      ],
    ],
    [
      pool({}, { agent: { ...agent, env: [{ name: "BUILDKITE_AGENT_NAME", value: "a" }] } }),
      ["agent.env[0]: BUILDKITE_AGENT_NAME is set to the pod's name for long-polling; remove it"],
    ],
    [
      pool(
        { scaling: { maxReplicas: 2 } },
        { agent: { ...agent, env: [{ name: "BUILDKITE_AGENT_SPAWN", value: "2" }] } },
      ),
      [
        "agent.env[0]: BUILDKITE_AGENT_SPAWN is set from longPolling.scaling.agentsPerPod; remove it",
      ],
    ],
  ])("refuses %j", (input, expected) => {
    expect(issuesOf(input)).toEqual(expected);
  });

  it("lets a fixed pool run several agents per pod its own way", () => {
    const env = [{ name: "BUILDKITE_AGENT_SPAWN", value: "2" }];
    expect(issuesOf(pool({}, { agent: { ...agent, env } }))).toEqual([]);
  });

  it("lets a child clear its parent's replicas with null to scale instead", () => {
    // Prepare: what the pod library hands over once a child of a fixed pool is merged in.
    const source = safeParsePodDefinitionSource(
      pool({ replicas: null, scaling: { maxReplicas: 3 } }),
    );
    if (!source.success) throw source.error;

    // Act
    const checked = checkPodDefinition(source.data);

    // Assess
    expect(checked.success && checked.data.longPolling?.scaling?.maxReplicas).toBe(3);
  });
});
