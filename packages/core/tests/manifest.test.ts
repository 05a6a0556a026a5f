import { createHash } from "node:crypto";
import {
  buildDeployment,
  buildJob,
  InvalidEventError,
  InvalidPodDefinitionError,
  type PodDefinition,
} from "@ondemand-eks/core";
import { toLabelValue } from "@ondemand-eks/core/manifest";
import type { PrivilegeFeature } from "@ondemand-eks/core/pod-definition";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/manifest/definition-hash.js";
import { podDefinition, scheduledJob, settings } from "./helpers/fixtures.js";

const withServices = () =>
  podDefinition({
    name: "node-postgres",
    agent: {
      image: "buildkite/agent:3",
      tags: { os: "linux", docker: false },
      env: [{ name: "BUILDKITE_GIT_CLEAN_FLAGS", value: "-ffxdq" }],
      resources: { requests: { cpu: "1", memory: "2Gi" } },
      volumeMounts: [{ name: "work", mountPath: "/workspace" }],
    },
    pod: {
      serviceAccountName: "buildkite-job",
      nodeSelector: { "kubernetes.io/os": "linux" },
      volumes: [{ name: "work", emptyDir: {} }],
      initContainers: [{ name: "prepare", image: "busybox:1.36", command: ["true"] }],
    },
    // A named service account may carry a cloud role: privilege, acknowledged.
    privilege: ["service-account"],
    access: { organizations: ["acme"] },
    metadata: { labels: { team: "ci" }, annotations: { "example.com/owner": "platform" } },
    services: [
      {
        name: "postgres",
        image: "postgres:16",
        env: [{ name: "POSTGRES_PASSWORD", value: "test" }],
      },
      { name: "redis", image: "redis:7" },
    ],
  });

describe("the namespace of a definition's Jobs", () => {
  it("is the job namespace, or the privileged one exactly when the definition uses privilege", () => {
    const build = (privilege: PrivilegeFeature[]) =>
      buildJob({
        job: scheduledJob(),
        queue: "default",
        definition: { ...podDefinition(), privilege },
        settings: settings({ namespace: "jobs", privilegedNamespace: "jobs-privileged" }),
      }).metadata.namespace;
    expect(build([])).toBe("jobs");
    expect(build(["privileged"])).toBe("jobs-privileged");
    expect(build(["service-account"])).toBe("jobs-privileged");
  });
});

describe("buildJob", () => {
  it("builds the documented Job for the sample event", () => {
    // Act
    const job = buildJob({
      job: scheduledJob(),
      queue: "default",
      definition: withServices(),
      settings: settings(),
    });

    // Assess
    expect(job.apiVersion).toBe("batch/v1");
    expect(job.kind).toBe("Job");
    expect(job.metadata.name).toBe("buildkite-0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70");
    // It acknowledges a privileged feature (its own service account): the privileged namespace.
    expect(job.metadata.namespace).toBe("buildkite-privileged");
    expect(job.metadata.labels).toEqual({
      "app.kubernetes.io/managed-by": "ondemand-eks",
      "app.kubernetes.io/name": "buildkite-agent",
      "app.kubernetes.io/component": "one-shot-agent",
      "buildkite.com/job-uuid": "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70",
      "buildkite.com/queue": "default",
      "buildkite.com/pipeline": "my-pipeline",
      "buildkite.com/build-number": "4312",
      "buildkite.com/organization": "acme",
      "ondemand-eks.io/pod-definition": "node-postgres",
    });
    expect(job.metadata.annotations).toEqual({
      "buildkite.com/build-url": "https://buildkite.com/acme/my-pipeline/builds/4312",
      "buildkite.com/job-label": ":node: test",
      "buildkite.com/step-key": "test",
      "buildkite.com/branch": "main",
      "buildkite.com/commit": "5a74c0ffee5a74c0ffee5a74c0ffee5a74c0ffee",
      "buildkite.com/pipeline": "my-pipeline",
      "buildkite.com/organization": "acme",
      "buildkite.com/queue": "default",
    });
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      ttlSecondsAfterFinished: 600,
      activeDeadlineSeconds: 21600,
    });

    const pod = job.spec.template;
    expect(pod.metadata.labels.team).toBe("ci");
    expect(pod.metadata.annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"]).toBe(
      "false",
    );
    expect(pod.metadata.annotations["example.com/owner"]).toBe("platform");
    expect(pod.spec.restartPolicy).toBe("Never");
    expect(pod.spec.serviceAccountName).toBe("buildkite-job");
    expect(pod.spec.containers).toEqual([
      {
        name: "agent",
        image: "buildkite/agent:3",
        args: ["start"],
        env: [
          {
            name: "BUILDKITE_AGENT_TOKEN",
            valueFrom: { secretKeyRef: { name: "buildkite-agent-token", key: "token" } },
          },
          { name: "BUILDKITE_AGENT_ACQUIRE_JOB", value: "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70" },
          { name: "BUILDKITE_AGENT_REFLECT_EXIT_STATUS", value: "true" },
          {
            name: "BUILDKITE_AGENT_TAGS",
            value: "queue=default,pod=node-postgres,docker=false,os=linux",
          },
          { name: "BUILDKITE_GIT_CLEAN_FLAGS", value: "-ffxdq" },
        ],
        resources: { requests: { cpu: "1", memory: "2Gi" } },
        volumeMounts: [{ name: "work", mountPath: "/workspace" }],
      },
    ]);
    expect(pod.spec.initContainers).toEqual([
      { name: "prepare", image: "busybox:1.36", command: ["true"] },
      {
        name: "postgres",
        image: "postgres:16",
        restartPolicy: "Always",
        env: [{ name: "POSTGRES_PASSWORD", value: "test" }],
      },
      { name: "redis", image: "redis:7", restartPolicy: "Always" },
    ]);
  });

  it("takes namespace, secret, TTL and deadline from settings", () => {
    const job = buildJob({
      job: scheduledJob(),
      queue: "default",
      definition: podDefinition(),
      settings: settings({
        namespace: "ci",
        agentTokenSecret: { name: "agent", key: "value" },
        ttlSecondsAfterFinished: 60,
        activeDeadlineSeconds: 3600,
      }),
    });
    expect(job.metadata.namespace).toBe("ci");
    expect(job.spec.ttlSecondsAfterFinished).toBe(60);
    expect(job.spec.activeDeadlineSeconds).toBe(3600);
    expect(job.spec.template.spec.containers[0]?.env?.[0]).toEqual({
      name: "BUILDKITE_AGENT_TOKEN",
      valueFrom: { secretKeyRef: { name: "agent", key: "value" } },
    });
  });

  it("points the agent at the settings' endpoint, next to its token, only when one is set", () => {
    // Prepare
    const definition = withServices();
    const build = (agentEndpoint?: string) =>
      buildJob({
        job: scheduledJob(),
        queue: "default",
        definition,
        settings: settings(agentEndpoint === undefined ? {} : { agentEndpoint }),
      });

    // Act
    const env = build("http://buildkite-emulator.ci:8080/v3").spec.template.spec.containers[0]?.env;
    const unset = build().spec.template.spec.containers[0]?.env;

    // Assess
    expect(env?.map((e) => e.name)).toEqual([
      "BUILDKITE_AGENT_TOKEN",
      "BUILDKITE_AGENT_ENDPOINT",
      "BUILDKITE_AGENT_ACQUIRE_JOB",
      "BUILDKITE_AGENT_REFLECT_EXIT_STATUS",
      "BUILDKITE_AGENT_TAGS",
      "BUILDKITE_GIT_CLEAN_FLAGS",
    ]);
    expect(env?.[1]).toEqual({
      name: "BUILDKITE_AGENT_ENDPOINT",
      value: "http://buildkite-emulator.ci:8080/v3",
    });
    expect(unset?.map((e) => e.name)).toEqual([
      "BUILDKITE_AGENT_TOKEN",
      "BUILDKITE_AGENT_ACQUIRE_JOB",
      "BUILDKITE_AGENT_REFLECT_EXIT_STATUS",
      "BUILDKITE_AGENT_TAGS",
      "BUILDKITE_GIT_CLEAN_FLAGS",
    ]);
  });

  it("keeps a definition's own command and omits the default args", () => {
    const definition = podDefinition({
      agent: { image: "example/agent:1", command: ["buildkite-agent", "start"] },
    });
    const [agent] = buildJob({
      job: scheduledJob(),
      queue: "default",
      definition,
      settings: settings(),
    }).spec.template.spec.containers;
    expect(agent?.command).toEqual(["buildkite-agent", "start"]);
    expect(agent?.args).toBeUndefined();
  });

  it("refuses a queue the settings do not serve: only a served queue reaches the agent", () => {
    const build = () =>
      buildJob({
        job: scheduledJob(),
        queue: "deploy",
        definition: podDefinition(),
        settings: settings(),
      });
    expect(build).toThrow(InvalidEventError);
    expect(build).toThrow('queue: queue "deploy" is not served here (serving: default)');
  });

  it("takes the routed queue and does not read the job's rules again", () => {
    // Prepare: rules no router would accept (two queues); the route's queue is what counts.
    const job = scheduledJob({ agentQueryRules: ["queue=a", "queue=b", "no-equals-sign"] });

    // Act
    const manifest = buildJob({
      job,
      queue: "build",
      definition: podDefinition(),
      settings: settings({ queues: ["default", "build"] }),
    });

    // Assess
    expect(manifest.metadata.labels["buildkite.com/queue"]).toBe("build");
    const tags = manifest.spec.template.spec.containers[0]?.env?.find(
      (e) => e.name === "BUILDKITE_AGENT_TAGS",
    );
    expect(tags?.value).toBe("queue=build,pod=default");
  });

  it("refuses a long-polling definition", () => {
    const definition = podDefinition({ mode: "long-polling", longPolling: { queue: "default" } });
    expect(() =>
      buildJob({ job: scheduledJob(), queue: "default", definition, settings: settings() }),
    ).toThrow(InvalidPodDefinitionError);
  });

  it("sanitises label values that do not fit and keeps the original in an annotation", () => {
    // Prepare
    const slug = "Ümlaut Pipeline/../../etc";
    const job = scheduledJob({ pipeline: { slug, uuid: undefined, repository: undefined } });

    // Act
    const manifest = buildJob({
      job,
      queue: "default",
      definition: podDefinition(),
      settings: settings(),
    });

    // Assess
    expect(manifest.metadata.labels["buildkite.com/pipeline"]).toBe(toLabelValue(slug));
    expect(manifest.metadata.labels["buildkite.com/pipeline"]).toMatch(
      /^mlaut-Pipeline-..-..-etc-[0-9a-f]{8}$/,
    );
    expect(manifest.metadata.annotations["buildkite.com/pipeline"]).toBe(slug);
  });

  it("keeps __proto__ keys from a pod template as plain data, never as a prototype", () => {
    // Prepare: what JSON.parse (or YAML) makes of a "__proto__" key.
    const pod = JSON.parse('{"nodeSelector": {"a": "b"}, "__proto__": {"hostNetwork": true}}');
    const definition = { ...podDefinition(), pod };

    // Act
    const spec = buildJob({
      job: scheduledJob(),
      queue: "default",
      definition,
      settings: settings(),
    }).spec.template.spec;

    // Assess
    expect(Object.getPrototypeOf(spec)).toBe(Object.prototype);
    expect(spec.hostNetwork).toBeUndefined();
    expect(Object.hasOwn(spec, "__proto__")).toBe(true);
  });
});

describe("buildDeployment", () => {
  it("builds a Deployment of agents polling the definition's queue", () => {
    // Prepare
    const definition = podDefinition({
      name: "linux-pool",
      mode: "long-polling",
      longPolling: { queue: "linux", replicas: 3 },
      services: [{ name: "dockerd", image: "docker:27-dind" }],
    });

    // Act
    const deployment = buildDeployment({ definition, settings: settings({ namespace: "ci" }) });

    // Assess
    expect(deployment.metadata.name).toBe("buildkite-agents-linux-pool");
    expect(deployment.metadata.namespace).toBe("ci");
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.selector.matchLabels).toEqual({
      "app.kubernetes.io/managed-by": "ondemand-eks",
      "app.kubernetes.io/component": "long-polling-agent",
      "ondemand-eks.io/pod-definition": "linux-pool",
    });
    for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels)) {
      expect(deployment.spec.template.metadata.labels[key]).toBe(value);
    }
    const spec = deployment.spec.template.spec;
    expect(spec.restartPolicy).toBe("Always");
    const env = spec.containers[0]?.env ?? [];
    expect(env.map((e) => e.name)).toEqual([
      "BUILDKITE_AGENT_TOKEN",
      "BUILDKITE_AGENT_TAGS",
      "BUILDKITE_AGENT_NAME",
    ]);
    expect(env[1]?.value).toBe("queue=linux,pod=linux-pool");
    expect(spec.initContainers).toEqual([
      { name: "dockerd", image: "docker:27-dind", restartPolicy: "Always" },
    ]);
  });

  it("points the agents at the settings' endpoint, next to their token, only when one is set", () => {
    const definition = podDefinition({ mode: "long-polling", longPolling: { queue: "linux" } });
    const envOf = (agentEndpoint?: string) =>
      buildDeployment({
        definition,
        settings: settings(agentEndpoint === undefined ? {} : { agentEndpoint }),
      }).spec.template.spec.containers[0]?.env ?? [];
    expect(envOf("https://proxy.example.com/v3")).toEqual([
      {
        name: "BUILDKITE_AGENT_TOKEN",
        valueFrom: { secretKeyRef: { name: "buildkite-agent-token", key: "token" } },
      },
      { name: "BUILDKITE_AGENT_ENDPOINT", value: "https://proxy.example.com/v3" },
      { name: "BUILDKITE_AGENT_TAGS", value: "queue=linux,pod=default" },
      { name: "BUILDKITE_AGENT_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ]);
    expect(envOf().map((e) => e.name)).toEqual([
      "BUILDKITE_AGENT_TOKEN",
      "BUILDKITE_AGENT_TAGS",
      "BUILDKITE_AGENT_NAME",
    ]);
  });

  it("defaults to one replica and refuses one-shot definitions", () => {
    const polling = podDefinition({ mode: "long-polling", longPolling: { queue: "q" } });
    expect(buildDeployment({ definition: polling, settings: settings() }).spec.replicas).toBe(1);
    expect(() => buildDeployment({ definition: podDefinition(), settings: settings() })).toThrow(
      InvalidPodDefinitionError,
    );
  });

  describe("for a scaled pool", () => {
    const scaled = (scaling: Record<string, unknown> = {}, rest: Record<string, unknown> = {}) =>
      podDefinition({
        name: "linux-scaled",
        mode: "long-polling",
        longPolling: { queue: "linux", scaling: { maxReplicas: 10, ...scaling }, ...rest },
      });

    it("leaves spec.replicas out unless told the count, so an apply never takes it from the scaler", () => {
      // Act
      const untold = buildDeployment({ definition: scaled(), settings: settings() });
      const told = buildDeployment({ definition: scaled(), settings: settings(), replicas: 4 });

      // Assess
      expect(Object.hasOwn(untold.spec, "replicas")).toBe(false);
      expect(told.spec.replicas).toBe(4);
      expect(
        buildDeployment({ definition: scaled(), settings: settings(), replicas: 0 }).spec.replicas,
      ).toBe(0);
    });

    it("runs agentsPerPod agents in each pod, and one without saying so", () => {
      const spawnOf = (agentsPerPod: number) =>
        buildDeployment({
          definition: scaled({ agentsPerPod }),
          settings: settings(),
        }).spec.template.spec.containers[0]?.env?.filter((e) => e.name === "BUILDKITE_AGENT_SPAWN");
      expect(spawnOf(3)).toEqual([{ name: "BUILDKITE_AGENT_SPAWN", value: "3" }]);
      expect(spawnOf(1)).toEqual([]);
    });
  });

  it("keeps a fixed pool at its definition's size, whatever replicas it is given", () => {
    const fixed = podDefinition({ mode: "long-polling", longPolling: { queue: "q", replicas: 2 } });
    expect(
      buildDeployment({ definition: fixed, settings: settings(), replicas: 7 }).spec.replicas,
    ).toBe(2);
  });

  it("gives busy agents stopGraceSeconds to finish their job after SIGTERM", () => {
    const graceOf = (longPolling: Record<string, unknown>) =>
      buildDeployment({
        definition: podDefinition({
          mode: "long-polling",
          longPolling: { queue: "q", ...longPolling },
        }),
        settings: settings(),
      }).spec.template.spec.terminationGracePeriodSeconds;
    expect(graceOf({})).toBe(3600);
    expect(graceOf({ stopGraceSeconds: 120 })).toBe(120);
    expect(graceOf({ stopGraceSeconds: 900, scaling: { maxReplicas: 2 } })).toBe(900);
  });

  it("marks the Deployment with a hash of its definition: stable, and changing with it", () => {
    // Prepare
    const hashOf = (definition: PodDefinition, replicas?: number) =>
      buildDeployment({ definition, settings: settings(), replicas }).metadata.annotations[
        "ondemand-eks.io/pod-definition-hash"
      ];
    const base = { mode: "long-polling", longPolling: { queue: "q", replicas: 2 } };
    const reordered = { longPolling: { replicas: 2, queue: "q" }, mode: "long-polling" };

    // Act
    const hash = hashOf(podDefinition(base));

    // Assess
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(hashOf(podDefinition(reordered))).toBe(hash);
    expect(hashOf(podDefinition({ ...base, longPolling: { queue: "q", replicas: 3 } }))).not.toBe(
      hash,
    );
    expect(hashOf(podDefinition({ ...base, agent: { image: "buildkite/agent:3.1" } }))).not.toBe(
      hash,
    );
    // The scaler's count is not part of the definition: it does not change the hash.
    const scaled = podDefinition({
      mode: "long-polling",
      longPolling: { queue: "q", scaling: { maxReplicas: 3 } },
    });
    expect(hashOf(scaled, 1)).toBe(hashOf(scaled, 2));
  });
});

describe("the definition hash's SHA-256", () => {
  it.each([
    "",
    "abc",
    "a".repeat(55),
    "a".repeat(56),
    "a".repeat(64),
    "x".repeat(1000),
    "naïve ☃ 😀 — \ud800 lone",
  ])("matches node:crypto for %j", (text) => {
    expect(sha256Hex(text)).toBe(createHash("sha256").update(text).digest("hex"));
  });
});
