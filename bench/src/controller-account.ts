import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { REPO_ROOT, renderKustomization, serverSideApply } from "@ondemand-eks/testenv";

/**
 * The controller's own ServiceAccount and its Roles and RoleBindings, from
 * deploy/kubernetes/controller/ as rendered for `kubectl apply -k`, applied to a control
 * plane that already has the base (namespaces, the scheduler's account and admission
 * policy): what `ondemand-eks controller --in-cluster` runs as. The Deployment,
 * PodDisruptionBudget and NetworkPolicy are left out; the bench starts the process itself.
 *
 * @module
 */

/** The account `ondemand-eks controller` runs as (serviceaccount.yaml). */
export const CONTROLLER_ACCOUNT = "ondemand-eks-controller";

const CONTROLLER_DIR = join(REPO_ROOT, "deploy", "kubernetes", "controller");
const KINDS = new Set(["ServiceAccount", "Role", "RoleBinding"]);

/**
 * Server-side applies the controller's account and RBAC, with strict field validation, as
 * testenv applies the base.
 *
 * @example
 * await applyControllerAccount(kubeconfig);
 * const pod = await inCluster({ kubeconfig, server, caPem, dir, account: CONTROLLER_ACCOUNT });
 */
export async function applyControllerAccount(kubeconfig: string): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  for (const object of renderKustomization(CONTROLLER_DIR)) {
    if (!KINDS.has(object.kind ?? "")) continue;
    const failure = await serverSideApply(config, object, {
      dryRun: false,
      fieldManager: "ondemand-eks-bench",
    });
    if (failure) throw new Error(`applying ${CONTROLLER_DIR}: ${failure}`);
  }
}
