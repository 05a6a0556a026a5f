import { CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { startTestControlPlane, type TestRun } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, expect, it } from "vitest";

// A control plane of this file's own: its scheduler, and Nodes no other test sees.
const run: TestRun = await startTestControlPlane("scheduler");
afterAll(() => run.teardown());

function api(): CoreV1Api {
  const config = new KubeConfig();
  config.loadFromFile(run.info.available ? run.info.value.kubeconfig : "");
  return config.makeApiClient(CoreV1Api);
}

/** A Node as a kubelet would register it: labelled, Ready, with room for pods. */
async function registerNode(core: CoreV1Api, name: string, labels: Record<string, string>) {
  await core.createNode({ body: { metadata: { name, labels } } });
  // The node controller updates a new Node too: on a conflict, read it again and retry.
  for (let attempt = 1; ; attempt++) {
    const node = await core.readNodeStatus({ name });
    node.status = {
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "KubeletReady",
          lastHeartbeatTime: new Date(),
          lastTransitionTime: new Date(),
        },
      ],
      capacity: { cpu: "4", memory: "8Gi", pods: "110" },
      allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
    };
    try {
      await core.replaceNodeStatus({ name, body: node });
      return;
    } catch (error) {
      if ((error as { code?: number }).code !== 409 || attempt >= 10) throw error;
    }
  }
}

function pod(name: string, nodeSelector: Record<string, string>): V1Pod {
  return {
    metadata: { name },
    spec: { nodeSelector, containers: [{ name: "main", image: "busybox" }] },
  };
}

/** Polls the pod until `done` says so (20 s at most), and returns it as last read. */
async function until(core: CoreV1Api, name: string, done: (pod: V1Pod) => boolean) {
  let found: V1Pod | undefined;
  for (let attempt = 0; attempt < 200; attempt++) {
    found = await core.readNamespacedPod({ name, namespace: "default" });
    if (done(found)) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name}: still ${JSON.stringify(found?.status?.conditions)}`);
}

const unschedulable = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False") ?? false;

describeWith(run.info, "kube-scheduler in the local control plane", () => {
  it("binds a pod to the node its selector names, and leaves one no node matches pending", async () => {
    // Prepare
    const core = api();
    await registerNode(core, "ec2-node", { "eks.amazonaws.com/compute-type": "ec2" });
    await registerNode(core, "fargate-node", { "eks.amazonaws.com/compute-type": "fargate" });
    // Act
    await core.createNamespacedPod({
      namespace: "default",
      body: pod("wants-fargate", { "eks.amazonaws.com/compute-type": "fargate" }),
    });
    await core.createNamespacedPod({
      namespace: "default",
      body: pod("wants-gpu", { "nvidia.com/gpu": "true" }),
    });
    // A pod may first be found unschedulable, before the scheduler has seen the nodes'
    // status; it is tried again when a node changes, as on a real cluster.
    const fargate = await until(core, "wants-fargate", (found) => Boolean(found.spec?.nodeName));
    const gpu = await until(core, "wants-gpu", unschedulable);
    // Assess
    expect(fargate.spec?.nodeName).toBe("fargate-node");
    expect(gpu.spec?.nodeName).toBeUndefined();
    expect(gpu.status?.conditions?.find((c) => c.type === "PodScheduled")).toMatchObject({
      status: "False",
      reason: "Unschedulable",
    });
  });
});
