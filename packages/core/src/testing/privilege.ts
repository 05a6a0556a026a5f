/**
 * Putting a privileged feature into a definition being written, so generated
 * definitions can use privilege and acknowledge exactly what they use.
 */
import type { PrivilegeFeature } from "../pod-definition/privilege.js";

/** Which container a container-level feature goes in. */
export type PrivilegeWhere = "agent" | "init" | "service";

/** A container of a definition being written, before it is parsed. */
export interface DraftContainer {
  image: string;
  securityContext?: Record<string, unknown>;
  ports?: { containerPort: number; hostPort?: number }[];
  [field: string]: unknown;
}

/** An init container or service of a definition being written. */
export interface NamedDraftContainer extends DraftContainer {
  name: string;
}

/** A pod definition being written: mutable, with every kind of container at hand. */
export interface PodDefinitionDraft {
  agent: DraftContainer;
  pod: {
    initContainers?: NamedDraftContainer[];
    volumes?: { name: string; [field: string]: unknown }[];
    [field: string]: unknown;
  };
  services?: NamedDraftContainer[];
  [field: string]: unknown;
}

/**
 * Puts one use of `feature` into `draft`: container features (privileged,
 * capabilities, a host port, root, no confinement) in the container `where` names,
 * falling back to the agent when the draft has no such container; pod features (the
 * node's namespaces, a host path, a service account) in `pod`.
 *
 * @example
 * ```ts
 * const draft = { name: "docker", agent: { image: "buildkite/agent:3" }, pod: {} };
 * usePrivilege(draft, "privileged", "agent");
 * definePodDefinition({ ...draft, privilege: ["privileged"], access: { pipelines: ["acme/*"] } });
 * ```
 */
export function usePrivilege(
  draft: PodDefinitionDraft,
  feature: PrivilegeFeature,
  where: PrivilegeWhere,
): void {
  const container =
    (where === "init" ? draft.pod.initContainers?.[0] : undefined) ??
    (where === "service" ? draft.services?.[0] : undefined) ??
    draft.agent;
  container.securityContext ??= {};
  const context = container.securityContext;
  switch (feature) {
    case "privileged":
      context.privileged = true;
      break;
    case "capabilities":
      context.capabilities = { add: ["SYS_ADMIN"] };
      break;
    case "host-port":
      container.ports = [{ containerPort: 53, hostPort: 53 }];
      break;
    case "run-as-root":
      context.runAsUser = 0;
      break;
    case "unconfined":
      context.seccompProfile = { type: "Unconfined" };
      break;
    case "host-network":
      draft.pod.hostNetwork = true;
      break;
    case "host-pid":
      draft.pod.hostPID = true;
      break;
    case "host-ipc":
      draft.pod.hostIPC = true;
      break;
    case "host-path":
      draft.pod.volumes = [
        ...(draft.pod.volumes ?? []),
        { name: "node", hostPath: { path: "/var/lib" } },
      ];
      break;
    case "service-account":
      draft.pod.serviceAccountName = "ci-deployer";
      break;
  }
}
