/**
 * What a `compute: fargate` definition may not do, because AWS Fargate would refuse its
 * pod or leave it pending. The limits are the EKS user guide's ("AWS Fargate
 * considerations", "Understand Fargate Pod configuration details"); where the guide is
 * silent (capabilities), what Fargate's scheduler is seen to refuse.
 */
import type { Issue } from "../errors.js";
import {
  FARGATE_MAX,
  FARGATE_OVERHEAD_MEMORY,
  type PodSize,
  podRequests,
  type SizedContainer,
} from "./fargate-size.js";
import { list, own, type PrivilegeFeature, privilegeUses } from "./privilege.js";
import { parseQuantity } from "./quantity.js";
import type { PodDefinitionSource } from "./schema.js";

/** Why Fargate refuses each privileged feature; `service-account` (IRSA) it allows. */
const REFUSED: Readonly<Record<Exclude<PrivilegeFeature, "service-account">, string>> = {
  privileged: "Fargate runs no privileged containers",
  // The guide lists none, and Fargate's scheduler refuses the pod for any added one
  // ("Pod not supported on Fargate: invalid SecurityContext fields: Capabilities added").
  capabilities: "Fargate adds no Linux capabilities to a container",
  "host-network": "Fargate pods cannot use the node's network (hostNetwork)",
  "host-pid": "Fargate pods cannot share the node's process namespace (hostPID)",
  "host-ipc": "Fargate pods cannot share the node's IPC namespace (hostIPC)",
  "host-path": "Fargate pods cannot mount the node's filesystem (hostPath): use an emptyDir",
  "host-port": "Fargate pods cannot take a port on the node (hostPort)",
  "run-as-root": 'a Fargate definition may acknowledge no privilege but "service-account"',
  unconfined: 'a Fargate definition may acknowledge no privilege but "service-account"',
};

const OR_EC2 = "remove it, or set compute: ec2";

/**
 * The labels every Fargate node has: a fixed value, or `null` for one that varies (its
 * zone, its name). Fargate runs Linux on x86-64 only.
 */
const FARGATE_NODE_LABELS: Readonly<Record<string, string | null>> = {
  "eks.amazonaws.com/compute-type": "fargate",
  "kubernetes.io/os": "linux",
  "beta.kubernetes.io/os": "linux",
  "kubernetes.io/arch": "amd64",
  "beta.kubernetes.io/arch": "amd64",
  "kubernetes.io/hostname": null,
  "topology.kubernetes.io/zone": null,
  "topology.kubernetes.io/region": null,
  "failure-domain.beta.kubernetes.io/zone": null,
  "failure-domain.beta.kubernetes.io/region": null,
};

/** Resources a Fargate pod can request; GPUs and other extended resources it has none of. */
const FARGATE_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage"]);

/** Could a node selector requirement hold on some Fargate node? */
function fargateMayMatch(requirement: unknown): boolean {
  const key = own(requirement, "key");
  const operator = own(requirement, "operator");
  const values = list(own(requirement, "values"));
  if (typeof key !== "string" || !Object.hasOwn(FARGATE_NODE_LABELS, key)) {
    return operator === "NotIn" || operator === "DoesNotExist";
  }
  const value = FARGATE_NODE_LABELS[key];
  switch (operator) {
    case "In":
      return value === null || values.includes(value);
    case "NotIn":
      return value === null || !values.includes(value);
    case "DoesNotExist":
      return false;
    default: // Exists; Gt and Lt fit no fixed value here, and may fit a varying one
      return operator === "Exists" || value === null;
  }
}

/** Where the pod would run: selectors and affinity that rule Fargate out. */
function placementIssues(pod: unknown, add: (path: string, message: string) => void): void {
  const selector = own(pod, "nodeSelector");
  if (typeof selector === "object" && selector !== null) {
    for (const [key, value] of Object.entries(selector)) {
      if (!Object.hasOwn(FARGATE_NODE_LABELS, key)) {
        add(`pod.nodeSelector.${key}`, `Fargate nodes have no label "${key}": ${OR_EC2}`);
      } else if (FARGATE_NODE_LABELS[key] !== null && FARGATE_NODE_LABELS[key] !== value) {
        add(
          `pod.nodeSelector.${key}`,
          `Fargate nodes are ${key}=${FARGATE_NODE_LABELS[key]}, not ${String(value)}: ${OR_EC2}`,
        );
      }
    }
  }
  const required = own(
    own(own(pod, "affinity"), "nodeAffinity"),
    "requiredDuringSchedulingIgnoredDuringExecution",
  );
  const terms = list(own(required, "nodeSelectorTerms"));
  // Terms are alternatives; within one, every requirement must hold. A term with none
  // matches no node at all, and one on node fields (a node's name) cannot name a node
  // Fargate has yet to make.
  const mayMatch = (term: unknown) => {
    const expressions = list(own(term, "matchExpressions"));
    if (list(own(term, "matchFields")).length > 0) return false;
    return expressions.length > 0 && expressions.every(fargateMayMatch);
  };
  if (terms.length > 0 && !terms.some(mayMatch)) {
    add(
      "pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution",
      `no term matches a Fargate node (eks.amazonaws.com/compute-type=fargate, linux, amd64): ${OR_EC2}`,
    );
  }
  if (own(pod, "nodeName") !== undefined) add("pod.nodeName", `Fargate picks the node: ${OR_EC2}`);
  if (list(own(pod, "topologySpreadConstraints")).length > 0) {
    add("pod.topologySpreadConstraints", `Fargate does not support topology spread: ${OR_EC2}`);
  }
  // Tolerations are not checked: a toleration lets a pod onto tainted nodes, and never
  // keeps it off others, so none pins a pod to EC2.
}

interface Container {
  readonly path: string;
  readonly kind: SizedContainer["kind"];
  readonly value: unknown;
}

/** The pod's containers in the order the builder puts them: init, services, the agent. */
function containersOf(source: PodDefinitionSource): Container[] {
  const containers: Container[] = [];
  source.pod?.initContainers?.forEach((value, i) => {
    const kind = own(value, "restartPolicy") === "Always" ? "sidecar" : "init";
    containers.push({ path: `pod.initContainers[${i}]`, kind, value });
  });
  source.services?.forEach((value, i) => {
    containers.push({ path: `services[${i}]`, kind: "sidecar", value });
  });
  containers.push({ path: "agent", kind: "main", value: source.agent });
  return containers;
}

/** One container's CPU and memory requests, checked; Kubernetes takes a missing request from the limit. */
function containerRequests(
  container: Container,
  add: (path: string, message: string) => void,
): PodSize {
  const resources = own(container.value, "resources");
  const requests = own(resources, "requests");
  const limits = own(resources, "limits");
  for (const [field, values] of [
    ["requests", requests],
    ["limits", limits],
  ] as const) {
    for (const name of Object.keys(typeof values === "object" && values !== null ? values : {})) {
      if (FARGATE_RESOURCES.has(name)) continue;
      const why = /gpu/i.test(name)
        ? "Fargate has no GPUs"
        : "Fargate offers only cpu, memory and ephemeral-storage";
      add(`${container.path}.resources.${field}.${name}`, `${why}: ${OR_EC2}`);
    }
  }
  const size = { cpu: 0, memory: 0 };
  for (const resource of ["cpu", "memory"] as const) {
    const request = own(requests, resource);
    const limit = own(limits, resource);
    const parsed: Record<string, number | undefined> = {};
    for (const [field, value] of [
      ["requests", request],
      ["limits", limit],
    ] as const) {
      if (value === undefined) continue;
      parsed[field] = parseQuantity(value);
      if (parsed[field] === undefined) {
        add(
          `${container.path}.resources.${field}.${resource}`,
          `expected a quantity such as ${resource === "cpu" ? '"500m" or "2"' : '"512Mi" or "4Gi"'}`,
        );
      }
    }
    // Fargate pods run with guaranteed QoS: a limit above the request is not honoured,
    // and the guide asks for them to be equal.
    if (
      parsed.requests !== undefined &&
      parsed.limits !== undefined &&
      parsed.requests !== parsed.limits
    ) {
      add(
        `${container.path}.resources.limits.${resource}`,
        `on Fargate a limit must equal the request (${String(request)}): set it so, or leave it out`,
      );
    }
    size[resource] = parsed.requests ?? parsed.limits ?? 0;
  }
  return size;
}

/** `bytes` in GiB, to two decimals at most. */
function gib(bytes: number): string {
  return `${Math.round((bytes / 2 ** 30) * 100) / 100} GiB`;
}

/**
 * Everything in a `compute: fargate` definition that Fargate cannot run: privileged
 * features but a service account, GPUs and other extended resources, selectors and
 * affinity that only EC2 nodes satisfy, limits unequal to requests, a pod larger than
 * Fargate's largest size (16 vCPU, 120 GiB with the 256 MiB Fargate adds), and an agent
 * without CPU and memory requests.
 *
 * Requests are required on the agent because Fargate sizes a pod from them alone: without
 * any it gets the smallest size, 0.25 vCPU and 0.5 GB, of which its own components take
 * 256 MB, too small for most jobs and not obviously so until one is killed.
 *
 * @example
 * ```ts
 * fargateIssues({ name: "x", compute: "fargate", agent: { image, securityContext: { privileged: true } } });
 * // [{ path: "agent.securityContext.privileged", message: "Fargate runs no privileged containers: ..." }, ...]
 * ```
 */
export function fargateIssues(source: PodDefinitionSource): Issue[] {
  const issues: Issue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  for (const use of privilegeUses(source)) {
    if (use.feature !== "service-account") add(use.path, `${REFUSED[use.feature]}: ${OR_EC2}`);
  }
  placementIssues(source.pod, add);
  const sized = containersOf(source).map((container) => ({
    kind: container.kind,
    requests: containerRequests(container, add),
  }));
  const agentResources = own(source.agent, "resources");
  for (const resource of ["cpu", "memory"] as const) {
    // A limit alone is a request too: Kubernetes copies it when the request is absent.
    const given =
      own(own(agentResources, "requests"), resource) ??
      own(own(agentResources, "limits"), resource);
    if (given === undefined) {
      add(
        `agent.resources.requests.${resource}`,
        "required for compute: fargate: Fargate sizes the pod from its requests, and without them gives it 0.25 vCPU and 0.5 GB, 256 MB of which its own components take",
      );
    }
  }
  const total = podRequests(sized);
  const counted = "agent, services and init containers, counted as Fargate does";
  if (total.cpu > FARGATE_MAX.cpu) {
    add(
      "compute",
      `the pod requests ${total.cpu} vCPU (${counted}), more than Fargate's largest size, ${FARGATE_MAX.cpu} vCPU: request less, or set compute: ec2`,
    );
  }
  if (total.memory + FARGATE_OVERHEAD_MEMORY > FARGATE_MAX.memory) {
    add(
      "compute",
      `the pod requests ${gib(total.memory)} of memory (${counted}); with the 256 MiB Fargate adds that is more than its largest size, ${gib(FARGATE_MAX.memory)}: request less, or set compute: ec2`,
    );
  }
  return issues;
}
