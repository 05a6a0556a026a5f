import {
  type CoordinationV1Api,
  type CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Taint,
} from "@kubernetes/client-node";

/**
 * The Nodes of the test kubelet: registered with the labels and taints a test chooses,
 * reported Ready with room for pods, and kept alive by renewing their Lease in
 * `kube-node-lease`, as a kubelet's heartbeat does. A lost node stops renewing, and the
 * node controller marks it unreachable on its own.
 *
 * @module
 */

/** A Node to register: its name, and what the scheduler matches pods against. */
export interface TestNode {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly V1Taint[];
  /** Capacity; 8 CPUs, 32 GiB and 110 pods unless given. */
  readonly capacity?: Readonly<Record<string, string>>;
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const LEASE_NAMESPACE = "kube-node-lease";
const LEASE_SECONDS = 40;

/** A Lease's MicroTime: RFC 3339 with six fractional digits, as the API server expects. */
const microTime = (date = new Date()) => date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

/** Registers `node` and reports it Ready (reportNodeStatus). */
export async function registerNode(core: CoreV1Api, node: TestNode): Promise<void> {
  const labels = {
    "kubernetes.io/hostname": node.name,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    ...node.labels,
  };
  const taints = [...(node.taints ?? [])];
  try {
    await core.createNode({ body: { metadata: { name: node.name, labels }, spec: { taints } } });
  } catch (error) {
    // Left by a kubelet that did not close (npm start stopped hard): take it over.
    if ((error as { code?: number }).code !== 409) throw error;
    await core.patchNode(
      { name: node.name, body: { metadata: { labels }, spec: { taints, unschedulable: false } } },
      mergePatch,
    );
  }
  await reportNodeStatus(core, node);
}

/**
 * Posts the node's status: Ready, with room for pods. The kubelet posts it again every
 * few seconds, as a real one does, so a node the node controller marked unreachable
 * after a late heartbeat (a busy machine) becomes Ready again; the controller itself
 * never sets Ready back.
 */
export async function reportNodeStatus(core: CoreV1Api, node: TestNode): Promise<void> {
  const capacity = { cpu: "8", memory: "32Gi", pods: "110", ...node.capacity };
  const now = new Date().toISOString();
  const healthy = (type: string, reason: string) => ({
    type,
    status: "False",
    reason,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  const status = {
    capacity,
    allocatable: capacity,
    addresses: [
      { type: "InternalIP", address: "127.0.0.1" },
      { type: "Hostname", address: node.name },
    ],
    conditions: [
      healthy("MemoryPressure", "KubeletHasSufficientMemory"),
      healthy("DiskPressure", "KubeletHasNoDiskPressure"),
      healthy("PIDPressure", "KubeletHasSufficientPID"),
      {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "the testenv kubelet is posting ready status",
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
    nodeInfo: {
      kubeletVersion: "testenv",
      kubeProxyVersion: "",
      containerRuntimeVersion: "testenv://host-processes",
      operatingSystem: "linux",
      architecture: "amd64",
      osImage: "testenv",
      kernelVersion: "",
      machineID: node.name,
      systemUUID: node.name,
      bootID: node.name,
    },
  };
  await core.patchNodeStatus({ name: node.name, body: { status } }, mergePatch);
}

/** Creates or renews the node's Lease. */
export async function renewLease(coordination: CoordinationV1Api, name: string): Promise<void> {
  const renew = () =>
    coordination.patchNamespacedLease(
      { name, namespace: LEASE_NAMESPACE, body: { spec: { renewTime: microTime() } } },
      mergePatch,
    );
  try {
    await renew();
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
    // The client would write renewTime with milliseconds, which a MicroTime refuses.
    await coordination.createNamespacedLease({
      namespace: LEASE_NAMESPACE,
      body: {
        metadata: { name, namespace: LEASE_NAMESPACE },
        spec: { holderIdentity: name, leaseDurationSeconds: LEASE_SECONDS },
      },
    });
    await renew();
  }
}

/** Removes the Node and its Lease (pods left on it are the pod GC's to delete). */
export async function removeNode(
  core: CoreV1Api,
  coordination: CoordinationV1Api,
  name: string,
): Promise<void> {
  const ignoreMissing = (error: unknown) => {
    if ((error as { code?: number }).code !== 404) throw error;
  };
  await core.deleteNode({ name }).catch(ignoreMissing);
  await coordination
    .deleteNamespacedLease({ name, namespace: LEASE_NAMESPACE })
    .catch(ignoreMissing);
}
