import {
  BatchV1Api,
  CoreV1Api,
  type Informer,
  KubeConfig,
  makeInformer,
  type V1Job,
} from "@kubernetes/client-node";
import { LABELS } from "@ondemand-eks/core";

/**
 * When each Job was created, as this process saw it: a Job informer (one list, then a
 * watch) records the millisecond its ADDED event arrived, by the Job's job-uuid label.
 * Kubernetes' own timestamps have a precision of one second, too coarse for a split of
 * a few milliseconds. Also reads a job's pod name and clears the namespace.
 */
export interface JobWatch {
  /** When the Job of `uuid` was seen ADDED; waits for it (up to `timeoutMs`). */
  createdAt(uuid: string, timeoutMs: number): Promise<number>;
  /** The name of a pod of the job's Job, once one exists. */
  podName(uuid: string): Promise<string | undefined>;
  /** The pod's node, phase and container states, for an error message. */
  podStatus(uuid: string): Promise<string>;
  /** Deletes every Job (and, in the background, their pods). */
  clear(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts watching the namespace's Jobs.
 *
 * @example
 * const watch = await watchJobs(kubeconfig, "buildkite");
 * const created = await watch.createdAt(uuid, 30_000); // ms since the epoch
 */
export async function watchJobs(kubeconfig: string, namespace: string): Promise<JobWatch> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const batch = config.makeApiClient(BatchV1Api);
  const core = config.makeApiClient(CoreV1Api);
  const seen = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  const informer: Informer<V1Job> = makeInformer(
    config,
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    () => batch.listNamespacedJob({ namespace }),
  );
  informer.on("add", (job) => {
    const at = Date.now();
    const uuid = job.metadata?.labels?.[LABELS.jobUuid];
    if (!uuid || seen.has(uuid)) return;
    seen.set(uuid, at);
    waiting.get(uuid)?.(at);
    waiting.delete(uuid);
  });
  let stopping = false;
  informer.on("error", () => {
    // A watch the server ended: start again (a re-list only re-adds Jobs already seen).
    if (!stopping) setTimeout(() => void informer.start().catch(() => undefined), 200);
  });
  await informer.start();

  return {
    createdAt(uuid, timeoutMs) {
      const at = seen.get(uuid);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(uuid);
          reject(new Error(`no Job for ${uuid} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(uuid, (value) => {
          clearTimeout(timer);
          resolve(value);
        });
      });
    },
    async podName(uuid) {
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `${LABELS.jobUuid}=${uuid}`,
      });
      return pods.items[0]?.metadata?.name;
    },
    async podStatus(uuid) {
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `${LABELS.jobUuid}=${uuid}`,
      });
      return pods.items
        .map((pod) => JSON.stringify({ node: pod.spec?.nodeName, status: pod.status }))
        .join("\n");
    },
    async clear() {
      await batch.deleteCollectionNamespacedJob({ namespace, propagationPolicy: "Background" });
    },
    async stop() {
      stopping = true;
      await informer.stop();
    },
  };
}
