/**
 * The privileged features a pod can use, how to find them in a definition, and the
 * check that a definition acknowledges exactly the ones it uses.
 */
import type { Issue } from "../errors.js";

/**
 * Everything that gives a job more than an ordinary container: the node itself (a
 * privileged container, capabilities, the node's namespaces, paths and ports, no
 * confinement), root, or an identity (a service account, and the cloud role bound to it).
 */
export const PRIVILEGE_FEATURES = [
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
] as const;

/** One of {@link PRIVILEGE_FEATURES}. */
export type PrivilegeFeature = (typeof PRIVILEGE_FEATURES)[number];

const DESCRIPTIONS: Readonly<Record<PrivilegeFeature, string>> = {
  privileged: "a privileged container, with full access to the node",
  capabilities: "added Linux capabilities",
  "host-network": "the node's network namespace",
  "host-pid": "the node's process namespace",
  "host-ipc": "the node's IPC namespace",
  "host-path": "a path on the node's filesystem",
  "host-port": "a port on the node's own address",
  "run-as-root": "running as root",
  unconfined: "no seccomp or AppArmor confinement, or an unmasked /proc",
  "service-account":
    "a Kubernetes service account's credentials, and any cloud role bound to the account",
};

/** One use of a privileged feature: which, where in the definition, and what it gives. */
export interface PrivilegeUse {
  readonly feature: PrivilegeFeature;
  /** Dotted path in the definition: `services[0].securityContext.privileged`. */
  readonly path: string;
  readonly description: string;
}

/** The parts of a definition, as written or checked, where privilege can be asked for. */
export interface PrivilegeSubject {
  readonly agent?: object | undefined;
  readonly pod?: object | undefined;
  readonly services?: readonly object[] | undefined;
}

/** `value[key]` if `value` is an object that holds `key` itself (never via a prototype). */
export function own(value: unknown, key: string): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

/** `value` if it is an array, else none. */
export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Security context fields that give privilege, in a container's or the pod's context. */
function securityContextUses(
  context: unknown,
  path: string,
  add: (feature: PrivilegeFeature, path: string) => void,
): void {
  if (own(context, "privileged") === true) add("privileged", `${path}.privileged`);
  if (own(own(context, "windowsOptions"), "hostProcess") === true)
    add("privileged", `${path}.windowsOptions.hostProcess`);
  if (list(own(own(context, "capabilities"), "add")).length > 0)
    add("capabilities", `${path}.capabilities.add`);
  if (own(context, "runAsUser") === 0) add("run-as-root", `${path}.runAsUser`);
  if (own(context, "runAsNonRoot") === false) add("run-as-root", `${path}.runAsNonRoot`);
  for (const profile of ["seccompProfile", "appArmorProfile"]) {
    if (own(own(context, profile), "type") === "Unconfined")
      add("unconfined", `${path}.${profile}`);
  }
  if (own(context, "procMount") === "Unmasked") add("unconfined", `${path}.procMount`);
}

/**
 * Every use of a privileged feature in a definition, in order: the agent, init
 * containers and services, then the pod's own fields. A service account counts when it
 * is named at all (other than `default`), since a cloud role bound to it (IRSA, EKS Pod
 * Identity) is not visible in the pod; so does a pod that mounts its account's API token.
 *
 * @example
 * ```ts
 * privilegeUses(library.get("elastic-ci-stack"));
 * // [{ feature: "privileged", path: "services[0].securityContext.privileged", ... }, ...]
 * ```
 */
export function privilegeUses(definition: PrivilegeSubject): PrivilegeUse[] {
  const uses: PrivilegeUse[] = [];
  const add = (feature: PrivilegeFeature, path: string) =>
    uses.push({ feature, path, description: DESCRIPTIONS[feature] });

  const containers: [unknown, string][] = [[definition.agent, "agent"]];
  list(own(definition.pod, "initContainers")).forEach((c, i) => {
    containers.push([c, `pod.initContainers[${i}]`]);
  });
  (definition.services ?? []).forEach((c, i) => {
    containers.push([c, `services[${i}]`]);
  });
  for (const [container, path] of containers) {
    securityContextUses(own(container, "securityContext"), `${path}.securityContext`, add);
    list(own(container, "ports")).forEach((port, i) => {
      const hostPort = own(port, "hostPort");
      if (hostPort !== undefined && hostPort !== 0)
        add("host-port", `${path}.ports[${i}].hostPort`);
    });
  }

  const pod = definition.pod;
  if (own(pod, "hostNetwork") === true) add("host-network", "pod.hostNetwork");
  if (own(pod, "hostPID") === true) add("host-pid", "pod.hostPID");
  if (own(pod, "hostIPC") === true) add("host-ipc", "pod.hostIPC");
  securityContextUses(own(pod, "securityContext"), "pod.securityContext", add);
  for (const field of ["serviceAccountName", "serviceAccount"]) {
    const account = own(pod, field);
    if (account !== undefined && account !== "default") add("service-account", `pod.${field}`);
  }
  if (own(pod, "automountServiceAccountToken") === true)
    add("service-account", "pod.automountServiceAccountToken");
  list(own(pod, "volumes")).forEach((volume, i) => {
    if (own(volume, "hostPath") !== undefined) add("host-path", `pod.volumes[${i}].hostPath`);
  });
  return uses;
}

/** What a definition's `privilege` and `access` must say, given what its pod uses. */
export interface PrivilegeDeclaration extends PrivilegeSubject {
  readonly mode?: "one-shot" | "long-polling" | undefined;
  readonly privilege?: readonly PrivilegeFeature[] | undefined;
  readonly access?: object | undefined;
}

/**
 * The privilege check: every feature the pod uses is listed in `privilege`, every listed
 * one is used, and a one-shot definition that needs any says who may use it (`access`
 * with at least one rule). A long-polling definition's users are whoever may target its
 * queue, so it lists its features but takes no `access`.
 */
export function privilegeIssues(definition: PrivilegeDeclaration): Issue[] {
  const issues: Issue[] = [];
  const listed = definition.privilege ?? [];
  const uses = privilegeUses(definition);
  for (const use of uses) {
    if (!listed.includes(use.feature)) {
      issues.push({
        path: use.path,
        message: `needs privilege "${use.feature}" (${use.description}): add it to privilege`,
      });
    }
  }
  listed.forEach((feature, i) => {
    if (!uses.some((use) => use.feature === feature)) {
      issues.push({
        path: `privilege[${i}]`,
        message: `"${feature}" is listed, but nothing in the pod uses it: remove it`,
      });
    }
  });
  const namesUsers = definition.access !== undefined && Object.keys(definition.access).length > 0;
  if (listed.length > 0 && definition.mode !== "long-polling" && !namesUsers) {
    issues.push({
      path: "access",
      message: `required: this definition needs privilege (${listed.join(", ")}), so it must say who may use it (queues, organizations, pipelines or branches)`,
    });
  }
  return issues;
}
