import { formatIssues, InvalidPodDefinitionError } from "@ondemand-eks/core";
import {
  checkPodDefinition,
  PRIVILEGE_FEATURES,
  privilegeUses,
  safeParsePodDefinitionSource,
} from "@ondemand-eks/core/pod-definition";
import { describe, expect, it } from "vitest";
import { podDefinition } from "./helpers/fixtures.js";

const agent = { image: "buildkite/agent:3" };
const ACCESS = { pipelines: ["acme/infra-*"] };

function issuesOf(overrides: Record<string, unknown>): string[] {
  try {
    podDefinition(overrides);
  } catch (error) {
    if (error instanceof InvalidPodDefinitionError) return formatIssues(error.issues).split("\n");
    throw error;
  }
  return [];
}

/** Each feature, a definition fragment that uses it, and where the use is reported. */
const USES: [string, Record<string, unknown>, string][] = [
  [
    "privileged",
    {
      services: [
        { name: "dockerd", image: "docker:27-dind", securityContext: { privileged: true } },
      ],
    },
    "services[0].securityContext.privileged",
  ],
  [
    "privileged",
    { agent: { ...agent, securityContext: { windowsOptions: { hostProcess: true } } } },
    "agent.securityContext.windowsOptions.hostProcess",
  ],
  [
    "capabilities",
    { agent: { ...agent, securityContext: { capabilities: { add: ["NET_ADMIN"] } } } },
    "agent.securityContext.capabilities.add",
  ],
  ["host-network", { pod: { hostNetwork: true } }, "pod.hostNetwork"],
  ["host-pid", { pod: { hostPID: true } }, "pod.hostPID"],
  ["host-ipc", { pod: { hostIPC: true } }, "pod.hostIPC"],
  [
    "host-path",
    {
      pod: {
        volumes: [
          { name: "cache", emptyDir: {} },
          { name: "sock", hostPath: { path: "/run" } },
        ],
      },
    },
    "pod.volumes[1].hostPath",
  ],
  [
    "host-port",
    {
      pod: {
        initContainers: [
          { name: "proxy", image: "envoy", ports: [{ containerPort: 80, hostPort: 8080 }] },
        ],
      },
    },
    "pod.initContainers[0].ports[0].hostPort",
  ],
  ["run-as-root", { pod: { securityContext: { runAsUser: 0 } } }, "pod.securityContext.runAsUser"],
  [
    "run-as-root",
    { agent: { ...agent, securityContext: { runAsNonRoot: false } } },
    "agent.securityContext.runAsNonRoot",
  ],
  [
    "unconfined",
    { pod: { securityContext: { seccompProfile: { type: "Unconfined" } } } },
    "pod.securityContext.seccompProfile",
  ],
  [
    "unconfined",
    {
      services: [
        { name: "x", image: "x", securityContext: { appArmorProfile: { type: "Unconfined" } } },
      ],
    },
    "services[0].securityContext.appArmorProfile",
  ],
  [
    "unconfined",
    { agent: { ...agent, securityContext: { procMount: "Unmasked" } } },
    "agent.securityContext.procMount",
  ],
  ["service-account", { pod: { serviceAccountName: "deployer" } }, "pod.serviceAccountName"],
  ["service-account", { pod: { serviceAccount: "deployer" } }, "pod.serviceAccount"],
  [
    "service-account",
    { pod: { automountServiceAccountToken: true } },
    "pod.automountServiceAccountToken",
  ],
];

describe("privilege", () => {
  it.each(USES)("detects %s at %j's %s", (feature, fragment, path) => {
    // Act
    const unacknowledged = issuesOf(fragment);
    const acknowledged = podDefinition({ ...fragment, privilege: [feature], access: ACCESS });

    // Assess
    expect(unacknowledged).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${path.replace(/[.[\]]/g, "\\$&")}: needs privilege "${feature}" \\(.+\\): add it to privilege$`,
        ),
      ),
    ]);
    expect(privilegeUses(acknowledged)).toEqual([
      { feature, path, description: expect.any(String) },
    ]);
    expect(acknowledged.privilege).toEqual([feature]);
  });

  it.each([
    [{ pod: { serviceAccountName: "default" } }],
    [{ pod: { automountServiceAccountToken: false, hostNetwork: false, hostPID: false } }],
    [{ pod: { securityContext: { runAsUser: 1000, runAsNonRoot: true } } }],
    [{ pod: { securityContext: { seccompProfile: { type: "RuntimeDefault" } } } }],
    [
      {
        agent: {
          ...agent,
          securityContext: { privileged: false, capabilities: { drop: ["ALL"] } },
        },
      },
    ],
    [{ agent: { ...agent, securityContext: { capabilities: { add: [] } } } }],
    [{ agent: { ...agent, ports: [{ containerPort: 8080 }] } }],
    // A "__proto__" key (YAML can carry one) is an ordinary key, never the pod's field.
    [{ pod: JSON.parse('{"__proto__": {"hostNetwork": true}}') }],
  ])("needs no acknowledgement for %j", (fragment) => {
    expect(issuesOf(fragment)).toEqual([]);
    expect(privilegeUses(podDefinition(fragment))).toEqual([]);
  });

  it("reports a listed feature the pod does not use, so the list stays true", () => {
    expect(
      issuesOf({ privilege: ["host-path", "privileged"], access: ACCESS, pod: { hostPID: true } }),
    ).toEqual([
      'pod.hostPID: needs privilege "host-pid" (the node\'s process namespace): add it to privilege',
      'privilege[0]: "host-path" is listed, but nothing in the pod uses it: remove it',
      'privilege[1]: "privileged" is listed, but nothing in the pod uses it: remove it',
    ]);
  });

  it("asks a definition that needs privilege to say who may use it", () => {
    const fragment = {
      pod: { serviceAccountName: "deployer", hostNetwork: true },
      privilege: ["service-account", "host-network"],
    };
    expect(issuesOf(fragment)).toEqual([
      "access: required: this definition needs privilege (service-account, host-network), so it must say who may use it (queues, organizations, pipelines or branches)",
    ]);
    expect(issuesOf({ ...fragment, access: {} })).toEqual([
      "access: required: this definition needs privilege (service-account, host-network), so it must say who may use it (queues, organizations, pipelines or branches)",
    ]);
    expect(issuesOf({ ...fragment, access: { queues: ["deploy"] } })).toEqual([]);
    expect(issuesOf({ ...fragment, access: { pipelines: [] } })).toEqual([]);
  });

  it("accepts only known features, once each", () => {
    expect(issuesOf({ privilege: ["root"] })[0]).toMatch(/^privilege\[0\]: expected one of /);
    expect(
      issuesOf({ privilege: ["host-ipc", "host-ipc"], pod: { hostIPC: true }, access: ACCESS }),
    ).toEqual(['privilege[1]: "host-ipc" is listed twice']);
  });

  it("reports every use, each where it is, in the order containers then pod", () => {
    // Prepare
    const parsed = safeParsePodDefinitionSource({
      name: "dind",
      agent: { ...agent, securityContext: { runAsUser: 0 } },
      services: [{ name: "dockerd", image: "d", securityContext: { privileged: true } }],
      pod: { serviceAccountName: "ci", volumes: [{ name: "h", hostPath: { path: "/" } }] },
    });
    if (!parsed.success) throw parsed.error;

    // Act
    const checked = checkPodDefinition(parsed.data);

    // Assess
    expect(checked.success).toBe(false);
    if (checked.success) return;
    expect(checked.error.issues.map((i) => i.path)).toEqual([
      "agent.securityContext.runAsUser",
      "services[0].securityContext.privileged",
      "pod.serviceAccountName",
      "pod.volumes[0].hostPath",
    ]);
  });

  it("lists every feature it knows", () => {
    expect(PRIVILEGE_FEATURES).toEqual([
      "privileged",
      "capabilities",
      "host-network",
      "host-pid",
      "host-ipc",
      "host-path",
      "host-port",
      "run-as-root",
      "unconfined",
      "service-account",
    ]);
  });
});
