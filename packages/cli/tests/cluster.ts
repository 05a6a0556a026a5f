import { BatchV1Api, KubeConfig } from "@kubernetes/client-node";
import { kubeconfigPath } from "@ondemand-eks/testenv/vitest";

export { describeWithCluster, kubeconfigPath } from "@ondemand-eks/testenv/vitest";

/** Whether a Job of that name is stored in the namespace. */
export async function jobExists(name: string, namespace = "buildkite"): Promise<boolean> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath());
  const list = await config.makeApiClient(BatchV1Api).listNamespacedJob({ namespace });
  return list.items.some((job) => job.metadata?.name === name);
}
