import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from "@kubernetes/client-node";
import { parseAllDocuments, parse as parseYaml } from "yaml";

/** The objects of a kustomization directory, in the order of its `resources` list. */
export async function readKustomization(dir: string): Promise<KubernetesObject[]> {
  const kustomization = parseYaml(await readFile(join(dir, "kustomization.yaml"), "utf8")) as {
    resources?: string[];
  };
  const objects: KubernetesObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const text = await readFile(join(dir, resource), "utf8");
    for (const document of parseAllDocuments(text)) {
      if (document.errors.length > 0)
        throw new Error(`${resource}: ${document.errors[0]?.message}`);
      const object = document.toJS() as KubernetesObject | null;
      if (object) objects.push(object);
    }
  }
  return objects;
}

/**
 * Applies deploy/kubernetes/ to the control plane with server-side apply, as
 * `kubectl apply --server-side -k` would (kubectl may not be installed; plain resource
 * lists are all our kustomization uses).
 */
export async function applyManifests(state: { kubeconfig: string }, dir: string): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(state.kubeconfig);
  const client = KubernetesObjectApi.makeApiClient(config);
  for (const object of await readKustomization(dir)) {
    await client.patch(
      object,
      undefined,
      undefined,
      "ondemand-eks-testenv",
      true,
      PatchStrategy.ServerSideApply,
    );
  }
}
