import { buildDeployment, buildJob } from "@ondemand-eks/core";
import { FARGATE_SIZES, fargateSize } from "@ondemand-eks/core/pod-definition";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseQuantity } from "../src/pod-definition/quantity.js";
import { issuesOf, podDefinition, scheduledJob, settings } from "./helpers/fixtures.js";

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** A Fargate definition that passes: the agent with requests Fargate can size. */
const fargate = {
  name: "on-fargate",
  compute: "fargate",
  agent: { image: "buildkite/agent:3", resources: { requests: { cpu: "1", memory: "1792Mi" } } },
};

/** `fargate` with `pod` fields, and the privilege and access its fields need. */
const withPod = (pod: Record<string, unknown>, privilege?: string[]) => ({
  ...fargate,
  pod,
  ...(privilege ? { privilege, access: { pipelines: ["acme/*"] } } : {}),
});
const withAgent = (agent: Record<string, unknown>, privilege?: string[]) => ({
  ...fargate,
  agent: { ...fargate.agent, ...agent },
  ...(privilege ? { privilege, access: { pipelines: ["acme/*"] } } : {}),
});

describe("compute", () => {
  it("defaults to any, and takes ec2, fargate or any and nothing else", () => {
    expect(podDefinition().compute).toBe("any");
    expect(podDefinition({ compute: "ec2" }).compute).toBe("ec2");
    expect(issuesOf({ ...fargate, compute: "lambda" })).toEqual([
      'compute: expected "ec2", "fargate" or "any"',
    ]);
  });

  it("keeps the compute label for the builder: no definition may set it", () => {
    expect(
      issuesOf({ ...fargate, metadata: { labels: { "ondemand-eks.io/compute": "fargate" } } }),
    ).toEqual([
      "metadata.labels.ondemand-eks.io/compute: set from compute: remove it (compute: fargate sets it)",
    ]);
  });
});

describe("the Fargate check refuses, naming the field", () => {
  it.each([
    [
      "a privileged container",
      withAgent({ securityContext: { privileged: true } }, ["privileged"]),
      "agent.securityContext.privileged: Fargate runs no privileged containers: remove it, or set compute: ec2",
    ],
    [
      "added capabilities, even one Docker grants by default",
      withAgent({ securityContext: { capabilities: { add: ["CHOWN"] } } }, ["capabilities"]),
      "agent.securityContext.capabilities.add: Fargate adds no Linux capabilities to a container: remove it, or set compute: ec2",
    ],
    [
      "hostNetwork",
      withPod({ hostNetwork: true }, ["host-network"]),
      "pod.hostNetwork: Fargate pods cannot use the node's network (hostNetwork): remove it, or set compute: ec2",
    ],
    [
      "hostPID",
      withPod({ hostPID: true }, ["host-pid"]),
      "pod.hostPID: Fargate pods cannot share the node's process namespace (hostPID): remove it, or set compute: ec2",
    ],
    [
      "hostIPC",
      withPod({ hostIPC: true }, ["host-ipc"]),
      "pod.hostIPC: Fargate pods cannot share the node's IPC namespace (hostIPC): remove it, or set compute: ec2",
    ],
    [
      "a hostPath volume",
      withPod({ volumes: [{ name: "node", hostPath: { path: "/var/lib" } }] }, ["host-path"]),
      "pod.volumes[0].hostPath: Fargate pods cannot mount the node's filesystem (hostPath): use an emptyDir: remove it, or set compute: ec2",
    ],
    [
      "a hostPort",
      withAgent({ ports: [{ containerPort: 80, hostPort: 80 }] }, ["host-port"]),
      "agent.ports[0].hostPort: Fargate pods cannot take a port on the node (hostPort): remove it, or set compute: ec2",
    ],
    [
      "running as root, acknowledged (privilege other than service-account)",
      withAgent({ securityContext: { runAsUser: 0 } }, ["run-as-root"]),
      'agent.securityContext.runAsUser: a Fargate definition may acknowledge no privilege but "service-account": remove it, or set compute: ec2',
    ],
    [
      "no confinement, acknowledged",
      withAgent({ securityContext: { seccompProfile: { type: "Unconfined" } } }, ["unconfined"]),
      'agent.securityContext.seccompProfile: a Fargate definition may acknowledge no privilege but "service-account": remove it, or set compute: ec2',
    ],
    [
      "a GPU",
      withAgent({ resources: { ...fargate.agent.resources, limits: { "nvidia.com/gpu": 1 } } }),
      "agent.resources.limits.nvidia.com/gpu: Fargate has no GPUs: remove it, or set compute: ec2",
    ],
    [
      "another extended resource",
      withAgent({
        resources: { requests: { ...fargate.agent.resources.requests, "hugepages-2Mi": "1Gi" } },
      }),
      "agent.resources.requests.hugepages-2Mi: Fargate offers only cpu, memory and ephemeral-storage: remove it, or set compute: ec2",
    ],
    [
      "a node selector on a label Fargate nodes lack",
      withPod({ nodeSelector: { "node.kubernetes.io/instance-type": "m7i.large" } }),
      'pod.nodeSelector.node.kubernetes.io/instance-type: Fargate nodes have no label "node.kubernetes.io/instance-type": remove it, or set compute: ec2',
    ],
    [
      "a node selector for arm64",
      withPod({ nodeSelector: { "kubernetes.io/arch": "arm64" } }),
      "pod.nodeSelector.kubernetes.io/arch: Fargate nodes are kubernetes.io/arch=amd64, not arm64: remove it, or set compute: ec2",
    ],
    [
      "required node affinity that keeps the pod off Fargate",
      withPod({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    {
                      key: "eks.amazonaws.com/compute-type",
                      operator: "NotIn",
                      values: ["fargate"],
                    },
                  ],
                },
                { matchExpressions: [{ key: "karpenter.sh/nodepool", operator: "Exists" }] },
              ],
            },
          },
        },
      }),
      "pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: no term matches a Fargate node (eks.amazonaws.com/compute-type=fargate, linux, amd64): remove it, or set compute: ec2",
    ],
    [
      "required node affinity whose only terms are empty, or on a node's fields (its name)",
      withPod({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {},
                {
                  matchFields: [
                    { key: "metadata.name", operator: "In", values: ["ip-10-0-0-1.ec2.internal"] },
                  ],
                },
              ],
            },
          },
        },
      }),
      "pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: no term matches a Fargate node (eks.amazonaws.com/compute-type=fargate, linux, amd64): remove it, or set compute: ec2",
    ],
    [
      "a node name",
      withPod({ nodeName: "ip-10-0-0-1.ec2.internal" }),
      "pod.nodeName: Fargate picks the node: remove it, or set compute: ec2",
    ],
    [
      "topology spread constraints",
      withPod({
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "topology.kubernetes.io/zone",
            whenUnsatisfiable: "DoNotSchedule",
          },
        ],
      }),
      "pod.topologySpreadConstraints: Fargate does not support topology spread: remove it, or set compute: ec2",
    ],
    [
      "a memory limit above the request",
      withAgent({ resources: { ...fargate.agent.resources, limits: { memory: "4Gi" } } }),
      "agent.resources.limits.memory: on Fargate a limit must equal the request (1792Mi): set it so, or leave it out",
    ],
    [
      "a request that is not a quantity",
      withAgent({ resources: { requests: { cpu: "one", memory: "1Gi" } } }),
      'agent.resources.requests.cpu: expected a quantity such as "500m" or "2"',
    ],
  ])("%s", (_what, input, issue) => {
    expect(issuesOf(input)).toContain(issue);
  });

  it("a limit equal to its request in another spelling (700m and 0.7) is equal", () => {
    const input = withAgent({
      resources: { requests: { cpu: "700m", memory: "1792Mi" }, limits: { cpu: "0.7" } },
    });
    expect(issuesOf(input)).toEqual([]);
  });

  it("an agent with limits alone is sized by them: Kubernetes copies limits to requests", () => {
    const input = withAgent({ resources: { limits: { cpu: "1", memory: "1792Mi" } } });
    expect(issuesOf(input)).toEqual([]);
  });

  it("an agent without CPU and memory requests: Fargate's default size is its smallest", () => {
    expect(issuesOf({ ...fargate, agent: { image: "buildkite/agent:3" } })).toEqual([
      "agent.resources.requests.cpu: required for compute: fargate: Fargate sizes the pod from its requests, and without them gives it 0.25 vCPU and 0.5 GB, 256 MB of which its own components take",
      "agent.resources.requests.memory: required for compute: fargate: Fargate sizes the pod from its requests, and without them gives it 0.25 vCPU and 0.5 GB, 256 MB of which its own components take",
    ]);
  });

  it("a pod larger than Fargate's largest size, counting services and init containers as Fargate does", () => {
    // Prepare: 12 + 6 vCPU of agent and service run together; the 17-vCPU init
    // container runs alone, before them.
    const input = {
      ...fargate,
      agent: { ...fargate.agent, resources: { requests: { cpu: "12", memory: "100Gi" } } },
      services: [
        { name: "db", image: "postgres:17", resources: { requests: { cpu: 6, memory: "20Gi" } } },
      ],
      pod: {
        initContainers: [
          { name: "warm", image: "busybox", resources: { requests: { cpu: "17", memory: "1Gi" } } },
        ],
      },
    };

    // Act
    const issues = issuesOf(input);

    // Assess
    expect(issues).toEqual([
      "compute: the pod requests 18 vCPU (agent, services and init containers, counted as Fargate does), more than Fargate's largest size, 16 vCPU: request less, or set compute: ec2",
      "compute: the pod requests 120 GiB of memory (agent, services and init containers, counted as Fargate does); with the 256 MiB Fargate adds that is more than its largest size, 120 GiB: request less, or set compute: ec2",
    ]);
  });

  it("up to the largest size exactly: 16 vCPU, and 120 GiB less the 256 MiB Fargate adds", () => {
    const largest = {
      ...fargate,
      agent: { ...fargate.agent, resources: { requests: { cpu: "15", memory: "100Gi" } } },
      services: [
        {
          name: "db",
          image: "postgres:17",
          resources: { requests: { cpu: "1000m", memory: "19.75Gi" } },
        },
      ],
    };
    expect(issuesOf(largest)).toEqual([]);
  });
});

describe("what a Fargate definition may do", () => {
  it("use a service account (IRSA), zone and os selectors, tolerations, and equal limits", () => {
    expect(
      issuesOf({
        ...withAgent(
          {
            resources: {
              requests: { cpu: "1", memory: "2Gi" },
              limits: { cpu: 1, memory: "2048Mi" },
            },
          },
          ["service-account"],
        ),
        pod: {
          serviceAccountName: "ci-deployer",
          nodeSelector: {
            "kubernetes.io/os": "linux",
            "topology.kubernetes.io/zone": "eu-west-1a",
          },
          tolerations: [{ key: "ondemand-eks.io/privileged", operator: "Exists" }],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
                    ],
                  },
                ],
              },
            },
          },
        },
      }),
    ).toEqual([]);
  });

  it("none of this is checked for ec2 or any", () => {
    const privileged = withAgent({ securityContext: { privileged: true } }, ["privileged"]);
    expect(issuesOf({ ...privileged, compute: "ec2" })).toEqual([]);
    expect(issuesOf({ ...privileged, compute: "any" })).toEqual([]);
    expect(issuesOf({ ...privileged, compute: undefined })).toEqual([]);
  });
});

describe("the builder", () => {
  const job = scheduledJob();
  const affinityOf = (definition: ReturnType<typeof podDefinition>) =>
    buildJob({ job, queue: "default", definition, settings: settings() }).spec.template.spec
      .affinity;
  const notFargate = {
    key: "eks.amazonaws.com/compute-type",
    operator: "NotIn",
    values: ["fargate"],
  };

  it("labels a Fargate definition's pods for the Fargate profile, Job and Deployment alike", () => {
    // Act
    const jobPod = buildJob({
      job,
      queue: "default",
      definition: podDefinition(fargate),
      settings: settings(),
    }).spec.template;
    const pool = buildDeployment({
      definition: podDefinition({ ...fargate, mode: "long-polling", longPolling: { queue: "q" } }),
      settings: settings(),
    });

    // Assess
    expect(jobPod.metadata.labels["ondemand-eks.io/compute"]).toBe("fargate");
    expect(pool.spec.template.metadata.labels["ondemand-eks.io/compute"]).toBe("fargate");
    expect(pool.spec.selector.matchLabels).not.toHaveProperty("ondemand-eks.io/compute");
    expect(jobPod.spec.affinity).toBeUndefined();
  });

  it("keeps an ec2 definition's pods off Fargate with required node affinity", () => {
    expect(affinityOf(podDefinition({ compute: "ec2" }))).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [notFargate] }],
        },
      },
    });
  });

  it("adds the requirement to each of an ec2 definition's own terms, once, keeping the rest", () => {
    // Prepare
    const arch = { key: "kubernetes.io/arch", operator: "In", values: ["arm64"] };
    const preferred = [{ weight: 1, preference: { matchExpressions: [arch] } }];
    const definition = podDefinition({
      compute: "ec2",
      pod: {
        affinity: {
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: preferred,
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [arch] },
                { matchExpressions: [notFargate, arch] },
                { matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] },
              ],
            },
          },
        },
      },
    });

    // Act and assess
    expect(affinityOf(definition)).toEqual({
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: preferred,
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [arch, notFargate] },
            { matchExpressions: [notFargate, arch] },
            {
              matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }],
              matchExpressions: [notFargate],
            },
          ],
        },
      },
    });
  });

  it("leaves an any definition's placement to the cluster", () => {
    const spec = buildJob({
      job,
      queue: "default",
      definition: podDefinition(),
      settings: settings(),
    }).spec.template;
    expect(spec.spec.affinity).toBeUndefined();
    expect(spec.metadata.labels).not.toHaveProperty("ondemand-eks.io/compute");
  });
});

describe("fargateSize", () => {
  it("rounds up to the next combination, after the 256 MiB Fargate adds (the guide's example)", () => {
    expect(fargateSize({ cpu: 1, memory: 8 * GiB })).toEqual({ cpu: 2, memory: 9 * GiB });
    expect(fargateSize({ cpu: 1, memory: 1792 * MiB })).toEqual({ cpu: 1, memory: 2 * GiB });
    expect(fargateSize({ cpu: 0, memory: 0 })).toEqual({ cpu: 0.25, memory: 0.5 * GiB });
    expect(fargateSize({ cpu: 16.001, memory: 0 })).toBeUndefined();
    expect(fargateSize({ cpu: 1, memory: 120 * GiB - 256 * MiB + 1 })).toBeUndefined();
  });

  it("holds the guide's table: 0.25 to 16 vCPU, 0.5 to 120 GiB", () => {
    expect(FARGATE_SIZES).toHaveLength(3 + 4 + 7 + 13 + 23 + 12 + 12);
    expect(FARGATE_SIZES.at(-1)).toEqual({ cpu: 16, memory: 120 * GiB });
  });
});

describe("parseQuantity", () => {
  it.each([
    ["250m", 0.25],
    [2, 2],
    ["1.5", 1.5],
    ["1792Mi", 1792 * MiB],
    ["2Gi", 2 * GiB],
    ["1G", 1e9],
    ["1e3", 1000],
    ["+.5", 0.5],
  ])("%s is %d", (value, expected) => {
    expect(parseQuantity(value)).toBe(expected);
  });

  it("gives a decimal suffix and its decimal spelling the same number", () => {
    // 700m and 0.7 once differed (0.7000000000000001 against 0.7): a limit equal to its
    // request was refused as unequal.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64_000 }), (milli) => {
        const decimal = (milli / 1000).toString();
        expect(parseQuantity(`${milli}m`)).toBe(parseQuantity(decimal));
        expect(parseQuantity(`${milli}e-3`)).toBe(parseQuantity(decimal));
      }),
      { numRuns: 500 },
    );
    expect(parseQuantity("700m")).toBe(0.7);
  });

  it.each(["one", "", "1 Gi", "-1", "1gi", "Gi", -1, Number.NaN, null])("%s is none", (value) => {
    expect(parseQuantity(value)).toBeUndefined();
  });
});
