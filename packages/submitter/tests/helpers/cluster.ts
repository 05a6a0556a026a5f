import { readFileSync } from "node:fs";
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { type JobManifest, LABELS, renderEvent, resolveSettings } from "@ondemand-eks/core";
import { bundledLibraryDir, loadPodLibrary, type PodLibrary } from "@ondemand-eks/pod-library";
import { kubeconfigAuth, Submitter, type SubmitterOptions } from "@ondemand-eks/submitter";
import { kubeconfigPath } from "@ondemand-eks/testenv/vitest";

export { describeWithCluster, kubeconfigPath } from "@ondemand-eks/testenv/vitest";

/** A submitter authenticated as the control plane's admin. */
export async function adminSubmitter(options: Partial<SubmitterOptions> = {}): Promise<Submitter> {
  return new Submitter({ auth: await kubeconfigAuth({ path: kubeconfigPath() }), ...options });
}

/** Plain client-node APIs as the admin, to look at what the submitter did. */
export function adminApis() {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath());
  return {
    config,
    batch: config.makeApiClient(BatchV1Api),
    apps: config.makeApiClient(AppsV1Api),
    core: config.makeApiClient(CoreV1Api),
  };
}

const SAMPLE_EVENT = JSON.parse(
  readFileSync(new URL("../../../../examples/job-scheduled.json", import.meta.url), "utf8"),
) as { detail: { job: { uuid: string; agent_query_rules: string[] } } };

let library: Promise<PodLibrary> | undefined;
export function bundledLibrary(): Promise<PodLibrary> {
  library ??= loadPodLibrary(bundledLibraryDir());
  return library;
}

/** The Job the scheduler would build for the sample event, with this job UUID and pod. */
export async function manifestFor(uuid: string, podDefinition = "default"): Promise<JobManifest> {
  const event = structuredClone(SAMPLE_EVENT);
  event.detail.job.uuid = uuid;
  event.detail.job.agent_query_rules = ["queue=default", `pod=${podDefinition}`];
  const pods = await bundledLibrary();
  const rendered = renderEvent(event, {
    settings: resolveSettings({}),
    lookup: (name) => pods.get(name),
  });
  if (rendered.kind !== "job") throw new Error(`sample event ignored: ${rendered.reason}`);
  return rendered.manifest;
}

/** Jobs in the namespace that carry this Buildkite job UUID. */
export async function jobsFor(uuid: string, namespace = "buildkite") {
  const { batch } = adminApis();
  const list = await batch.listNamespacedJob({
    namespace,
    labelSelector: `${LABELS.jobUuid}=${uuid}`,
  });
  return list.items;
}
