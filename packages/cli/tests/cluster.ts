import { ApiException, BatchV1Api, KubeConfig } from "@kubernetes/client-node";
import { kubeconfigPath } from "@ondemand-eks/testenv/vitest";

export { describeWithCluster, kubeconfigPath } from "@ondemand-eks/testenv/vitest";

function batch(): BatchV1Api {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath());
  return config.makeApiClient(BatchV1Api);
}

/** Whether a Job of that name is stored in the namespace. */
export async function jobExists(name: string, namespace = "buildkite"): Promise<boolean> {
  const list = await batch().listNamespacedJob({ namespace });
  return list.items.some((job) => job.metadata?.name === name);
}

/** The HTTP status of GET on that Job: 200 when it is stored, 404 when it is not. */
export async function getJobStatus(name: string, namespace = "buildkite"): Promise<number> {
  try {
    await batch().readNamespacedJob({ name, namespace });
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}
