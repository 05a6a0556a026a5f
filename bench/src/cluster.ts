import { BatchV1Api, KubeConfig } from "@kubernetes/client-node";
import { LABELS } from "@ondemand-eks/core";

const NAMESPACE = "buildkite";

/** The Jobs the bench made, read back and removed between runs. */
export class BenchJobs {
  readonly #batch: BatchV1Api;

  constructor(kubeconfig: string) {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfig);
    this.#batch = config.makeApiClient(BatchV1Api);
  }

  /** The job uuid label of every Job in the namespace, one entry per Job. */
  async uuids(): Promise<string[]> {
    const uuids: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#batch.listNamespacedJob({
        namespace: NAMESPACE,
        limit: 1_000,
        ...(token ? { _continue: token } : {}),
      });
      for (const job of page.items) uuids.push(job.metadata?.labels?.[LABELS.jobUuid] ?? "");
      token = page.metadata?._continue || undefined;
    } while (token);
    return uuids;
  }

  /** Deletes every Job, so each run starts from the same store size. */
  async clear(): Promise<void> {
    await this.#batch.deleteCollectionNamespacedJob({
      namespace: NAMESPACE,
      propagationPolicy: "Background",
    });
  }
}
