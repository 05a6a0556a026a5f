import { readFileSync } from "node:fs";
import { CONTROLLER_SETTINGS } from "@ondemand-eks/controller/settings";
import { buildDeployment, parsePodDefinition, resolveSettings } from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { poolCountAnswer } from "../src/pool-counts.js";

// deploy/kubernetes/examples/keda-scaledobject.yaml: there is no KEDA here, so its fields
// are checked against what they must name: the controller's pods and ops port, the pool's
// Deployment, and the endpoint's answer.

const EXAMPLE = new URL(
  "../../../deploy/kubernetes/examples/keda-scaledobject.yaml",
  import.meta.url,
);
const CONTROLLER = new URL(
  "../../../deploy/kubernetes/controller/deployment.yaml",
  import.meta.url,
);

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  // biome-ignore lint/suspicious/noExplicitAny: the test reads manifests of any kind
  spec: any;
}

const text = readFileSync(EXAMPLE, "utf8");
const objects = parseAllDocuments(text).map((document) => document.toJS() as Manifest);
const controller = parseYaml(readFileSync(CONTROLLER, "utf8")) as Manifest;
const byKind = (kind: string) => {
  const found = objects.find((object) => object.kind === kind);
  if (!found) throw new Error(`no ${kind} in the example`);
  return found;
};

describe("the KEDA example", () => {
  it("is a Service, a NetworkPolicy for KEDA, and a ScaledObject", () => {
    expect(objects.map((object) => `${object.apiVersion} ${object.kind}`)).toEqual([
      "v1 Service",
      "networking.k8s.io/v1 NetworkPolicy",
      "keda.sh/v1alpha1 ScaledObject",
    ]);
  });

  it("puts the Service in front of the controller's pods and ops port", () => {
    const service = byKind("Service");
    const container = controller.spec.template.spec.containers[0];
    const ops = container.ports.find((port: { name: string }) => port.name === "ops");
    expect(service.metadata.namespace).toBe(controller.metadata.namespace);
    expect(service.spec.selector).toEqual(controller.spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([
      { name: "ops", port: ops.containerPort, targetPort: "ops", protocol: "TCP" },
    ]);
    expect(container.args).toContain("controller");
  });

  it("opens the ops port to KEDA's namespace", () => {
    const policy = byKind("NetworkPolicy");
    expect(policy.metadata.namespace).toBe(controller.metadata.namespace);
    expect(policy.spec.podSelector.matchLabels).toEqual(controller.spec.selector.matchLabels);
    expect(policy.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "keda" } } }],
        ports: [{ port: 8080, protocol: "TCP" }],
      },
    ]);
  });

  it("scales the pool's Deployment by desiredReplicas from /pools/<definition> on that Service", async () => {
    // Prepare
    const scaled = byKind("ScaledObject");
    const service = byKind("Service");
    const [trigger, ...others] = scaled.spec.triggers;
    const url = new URL(trigger.metadata.url);
    const pool = url.pathname.replace(/^\/pools\//, "");
    const definition = parsePodDefinition({
      name: pool,
      mode: "long-polling",
      longPolling: { queue: "linux", scaling: { maxReplicas: scaled.spec.maxReplicaCount } },
      agent: { image: "buildkite/agent:3" },
    });

    // Act: what the controller answers for that pool.
    const answer = await poolCountAnswer(url.pathname, {
      desired: () => new Map([[pool, { replicas: 4, wanted: 4, at: 0 }]]),
      definition: async (name) => (name === pool ? definition : undefined),
      now: () => 0,
    });

    // Assess
    expect(others).toEqual([]);
    const { name, namespace } = buildDeployment({
      definition,
      settings: resolveSettings(),
    }).metadata;
    expect(scaled.spec.scaleTargetRef).toEqual({ name });
    expect(scaled.metadata).toEqual({ name, namespace });
    expect(trigger.type).toBe("metrics-api");
    expect(trigger.metricType).toBe("AverageValue");
    expect(trigger.metadata).toMatchObject({
      format: "json",
      valueLocation: "desiredReplicas",
      targetValue: "1",
    });
    expect(url.protocol).toBe("http:");
    expect(url.host).toBe(
      `${service.metadata.name}.${service.metadata.namespace}.svc:${service.spec.ports[0].port}`,
    );
    expect(answer?.status).toBe(200);
    expect(answer?.body[trigger.metadata.valueLocation]).toBe(4);
  });

  it("says to run the controller with --pool-scaling off, a value the flag takes", () => {
    expect(text).toContain("--pool-scaling off");
    expect(CONTROLLER_SETTINGS.poolScaling.flag).toBe("--pool-scaling");
    expect(CONTROLLER_SETTINGS.poolScaling.parse("off")).toEqual({ value: "off" });
  });
});
