import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BatchV1Api, KubeConfig } from "@kubernetes/client-node";
import { LABELS } from "@ondemand-eks/core";

/** The function as deployed: dist/lambda's entries and chunks, plus the bundled pod library. */
export const BUNDLE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "lambda");

/** The Jobs of one Buildkite job in the `buildkite` namespace of the cluster `kubeconfig` names. */
export async function jobsFor(kubeconfig: string | undefined, uuid: string) {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig ?? "");
  const list = await config.makeApiClient(BatchV1Api).listNamespacedJob({
    namespace: "buildkite",
    labelSelector: `${LABELS.jobUuid}=${uuid}`,
  });
  return list.items;
}
