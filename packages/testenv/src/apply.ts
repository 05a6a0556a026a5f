import { KubeConfig } from "@kubernetes/client-node";
import { render } from "./kustomize.js";
import { serverSideApply } from "./server-side-apply.js";

/**
 * Applies a kustomization (deploy/kubernetes/base/ at start) to the control plane with server-side apply, as
 * `kubectl apply --server-side -k` would (kubectl may not be installed), with strict field
 * validation: a misspelt field fails the start instead of being dropped.
 */
export async function applyManifests(state: { kubeconfig: string }, dir: string): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(state.kubeconfig);
  for (const object of render(dir)) {
    const failure = await serverSideApply(config, object, {
      dryRun: false,
      fieldManager: "ondemand-eks-testenv",
    });
    if (failure) throw new Error(`applying ${dir}: ${failure}`);
  }
}
