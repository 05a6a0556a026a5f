import { randomUUID } from "node:crypto";
import {
  type PodDefinition,
  parsePodDefinition,
  resolveSettings,
  type SchedulerSettings,
} from "@ondemand-eks/core";
import { ClusterApi, kubeconfigAuth } from "@ondemand-eks/submitter";
import { describeWithCluster, kubeconfigPath } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type PoolChange, reconcilePools } from "../src/index.js";
import { recordingLogger } from "./recording-logger.js";

interface Deployment {
  metadata: {
    name: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    replicas?: number;
    template: { spec: { containers: { image?: string }[] } };
  };
}

function definition(
  name: string,
  longPolling: Record<string, unknown>,
  image = "buildkite/agent:3",
) {
  return parsePodDefinition({
    name,
    mode: "long-polling",
    longPolling,
    agent: { image, resources: { requests: { cpu: "100m", memory: "128Mi" } } },
  });
}

describeWithCluster("reconcilePools against a real API server", () => {
  let api: ClusterApi;
  const namespaces: string[] = [];

  /** Settings whose job namespaces are the test's own, fresh ones. */
  async function isolated(): Promise<SchedulerSettings> {
    const name = `pools-${randomUUID().slice(0, 8)}`;
    for (const each of [name, `${name}-p`]) {
      await api.create("/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: each },
      });
      namespaces.push(each);
    }
    return resolveSettings({ namespace: name, privilegedNamespace: `${name}-p` });
  }

  function pass(settings: SchedulerSettings, definitions: PodDefinition[], extra = {}) {
    const log = recordingLogger();
    const run = reconcilePools({
      api,
      definitions,
      settings,
      namespaces: [settings.namespace, settings.privilegedNamespace],
      log,
      ...extra,
    });
    return { run, log };
  }

  const deployments = (namespace: string) => `/apis/apps/v1/namespaces/${namespace}/deployments`;

  beforeAll(async () => {
    api = new ClusterApi({ auth: await kubeconfigAuth({ path: kubeconfigPath() }) });
  });
  afterAll(async () => {
    for (const name of namespaces) await api.delete(`/api/v1/namespaces/${name}`);
    api.close();
  });

  it("creates a fixed pool's Deployment with its replicas, then leaves it unchanged", async () => {
    // Prepare
    const settings = await isolated();
    const pool = definition("fixed", { queue: "linux", replicas: 3 });
    const oneShot = parsePodDefinition({ name: "one-shot", agent: { image: "busybox:1.36" } });

    // Act
    const first = await pass(settings, [pool, oneShot]).run;
    const second = await pass(settings, [pool, oneShot]).run;

    // Assess
    const where = { name: "buildkite-agents-fixed", namespace: settings.namespace };
    expect(first).toEqual([{ definition: "fixed", ...where, action: "create", replicas: 3 }]);
    expect(second).toEqual([{ definition: "fixed", ...where, action: "unchanged" }]);
    const stored = await api.get<Deployment>(`${deployments(settings.namespace)}/${where.name}`);
    expect(stored.spec.replicas).toBe(3);
    expect(stored.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("ondemand-eks");
    expect(stored.metadata.annotations?.["ondemand-eks.io/pod-definition-hash"]).toMatch(
      /^[0-9a-f]{16}$/,
    );
  });

  it("creates a scaled pool with the replicas asked for, and never resets them when applying again", async () => {
    // Prepare
    const settings = await isolated();
    const pool = definition("scaled", { queue: "linux", scaling: { maxReplicas: 10 } });
    const path = `${deployments(settings.namespace)}/buildkite-agents-scaled`;
    const replicasFor = (_: PodDefinition, existing: number | undefined) =>
      existing === undefined ? 0 : undefined;

    // Act: created at 0; scaled to 4 by someone else (our scaler, or KEDA); applied again.
    const created = await pass(settings, [pool], { replicasFor }).run;
    const first = await api.get<Deployment & { metadata: { generation?: number } }>(path);
    await api.patch(path, { spec: { replicas: 4 } });
    const again = await pass(settings, [pool], { replicasFor }).run;
    const changed = definition(
      "scaled",
      { queue: "linux", scaling: { maxReplicas: 10 } },
      "buildkite/agent:3.1",
    );
    const edited = await pass(settings, [changed], { replicasFor }).run;

    // Assess: the apply owns no replicas, so an edit of the definition keeps the 4.
    expect(created).toMatchObject([{ action: "create", replicas: 0 }]);
    // Made at 0 in one write: never at Kubernetes' default of 1, even for a moment.
    expect(first.spec.replicas).toBe(0);
    expect(first.metadata.generation).toBe(1);
    expect(again).toMatchObject([{ action: "unchanged" }]);
    expect(edited).toMatchObject([{ action: "update" }]);
    expect(edited[0]?.replicas).toBeUndefined();
    const stored = await api.get<Deployment>(path);
    expect(stored.spec.replicas).toBe(4);
    expect(stored.spec.template.spec.containers[0]?.image).toBe("buildkite/agent:3.1");
  });

  it("updates an edited definition's Deployment (its hash changes) and deletes a removed one's", async () => {
    // Prepare
    const settings = await isolated();
    const kept = definition("kept", { queue: "linux", replicas: 1 });
    const gone = definition("gone", { queue: "other", replicas: 1 });
    await pass(settings, [kept, gone]).run;
    const path = `${deployments(settings.namespace)}/buildkite-agents-kept`;
    const before = await api.get<Deployment>(path);

    // Act
    const edited = definition("kept", { queue: "linux", replicas: 2 }, "buildkite/agent:3.1");
    const { run, log } = pass(settings, [edited]);
    const changes = await run;

    // Assess
    const hash = (deployment: Deployment) =>
      deployment.metadata.annotations?.["ondemand-eks.io/pod-definition-hash"];
    expect(sorted(changes)).toEqual([
      {
        definition: "gone",
        name: "buildkite-agents-gone",
        namespace: settings.namespace,
        action: "delete",
      },
      {
        definition: "kept",
        name: "buildkite-agents-kept",
        namespace: settings.namespace,
        action: "update",
        replicas: 2,
      },
    ]);
    const after = await api.get<Deployment>(path);
    expect(hash(after)).not.toBe(hash(before));
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.spec.replicas).toBe(2);
    expect(after.spec.template.spec.containers[0]?.image).toBe("buildkite/agent:3.1");
    const { items } = await api.list<Deployment>(deployments(settings.namespace));
    expect(items.map((item) => item.metadata.name)).toEqual(["buildkite-agents-kept"]);
    expect(log.lines.map((line) => line.msg).sort()).toEqual(["pool deleted", "pool updated"]);
  });

  it("reports an unmanaged Deployment of a pool's name and never changes or deletes it", async () => {
    // Prepare: someone's own Deployment under the name the pool would take, and another
    // that carries our component label but not our managed-by label.
    const settings = await isolated();
    const theirs = (name: string, labels: Record<string, string>) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, labels },
      spec: {
        replicas: 5,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: "main", image: "busybox:1.36" }] },
        },
      },
    });
    const collection = deployments(settings.namespace);
    const taken = await api.create<Deployment>(
      collection,
      theirs("buildkite-agents-taken", { "app.kubernetes.io/managed-by": "helm" }),
    );
    const lookalike = await api.create<Deployment>(
      collection,
      theirs("lookalike", { "app.kubernetes.io/component": "long-polling-agent" }),
    );

    // Act
    const { run, log } = pass(settings, [definition("taken", { queue: "linux", replicas: 1 })]);
    const changes = await run;

    // Assess
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      definition: "taken",
      name: "buildkite-agents-taken",
      action: "unmanaged",
    });
    expect(changes[0]?.message).toContain("app.kubernetes.io/managed-by=ondemand-eks");
    expect(changes[0]?.message).toContain("helm");
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "pool left alone: a Deployment of its name is not ours",
      }),
    );
    for (const [name, was] of [
      ["buildkite-agents-taken", taken],
      ["lookalike", lookalike],
    ] as const) {
      const now = await api.get<Deployment>(`${collection}/${name}`);
      expect(untouched(now), name).toEqual(untouched(was));
      expect(now.spec.replicas).toBe(5);
    }
  });

  it("changes nothing on a dry run, and says what it would do", async () => {
    // Prepare: one pool to update, one to delete, one to create.
    const settings = await isolated();
    await pass(settings, [
      definition("edited", { queue: "a", replicas: 1 }),
      definition("removed", { queue: "b", replicas: 1 }),
    ]).run;
    const collection = deployments(settings.namespace);
    const before = await api.list<Deployment>(collection);

    // Act
    const changes = await pass(
      settings,
      [
        definition("edited", { queue: "a", replicas: 2 }),
        definition("added", { queue: "c", replicas: 1 }),
      ],
      { dryRun: true },
    ).run;

    // Assess
    expect(sorted(changes).map((change) => [change.definition, change.action])).toEqual([
      ["added", "create"],
      ["edited", "update"],
      ["removed", "delete"],
    ]);
    const after = await api.list<Deployment>(collection);
    const versions = (list: { items: Deployment[] }) => list.items.map(untouched);
    expect(versions(after)).toEqual(versions(before));
  });
});

/**
 * What a write of ours would change: the spec (its generation), labels and annotations.
 * Not the resourceVersion: the Deployment controller's own writes (status, its revision
 * annotation) change it at any time.
 */
function untouched(deployment: Deployment) {
  const { name, generation, labels, annotations = {} } = deployment.metadata;
  const own = Object.entries(annotations).filter(
    ([key]) => !key.startsWith("deployment.kubernetes.io/"),
  );
  return { name, generation, labels, annotations: Object.fromEntries(own) };
}

function sorted(changes: PoolChange[]): PoolChange[] {
  return [...changes].sort((a, b) => a.definition.localeCompare(b.definition));
}
