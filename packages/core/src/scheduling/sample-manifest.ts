import type { ScheduledJob } from "../events/types.js";
import { buildDeployment } from "../manifest/deployment.js";
import { buildJob } from "../manifest/job.js";
import type { DeploymentManifest, JobManifest } from "../manifest/kubernetes.js";
import type { PodDefinition } from "../pod-definition/schema.js";
import type { SchedulerSettings } from "../settings.js";

/** The job UUID sample manifests use; no real Buildkite job has it. */
export const SAMPLE_JOB_UUID = "00000000-0000-4000-8000-000000000000";

/** A made-up scheduled job that asks for `definition` on `queue`. */
function sampleScheduledJob(definition: string, queue: string): ScheduledJob {
  return {
    uuid: SAMPLE_JOB_UUID,
    agentQueryRules: [`queue=${queue}`, `pod=${definition}`],
    label: "sample",
    stepKey: undefined,
    priority: undefined,
    runnableAt: undefined,
    pipeline: { slug: "sample", uuid: undefined, repository: undefined },
    build: {
      number: 1,
      uuid: undefined,
      branch: "main",
      commit: undefined,
      message: undefined,
      url: undefined,
    },
    organization: { slug: "sample", uuid: undefined },
    form: "eventbridge",
  };
}

/**
 * What a pod definition becomes, for checking it against a real API server: a Job for a
 * made-up job on the first queue the settings serve (one-shot definitions), or its
 * Deployment (long-polling ones).
 *
 * @example
 * ```ts
 * for (const definition of library.definitions()) await dryRun(sampleManifest(definition, settings));
 * ```
 */
export function sampleManifest(
  definition: PodDefinition,
  settings: SchedulerSettings,
): JobManifest | DeploymentManifest {
  if (definition.mode === "long-polling") return buildDeployment({ definition, settings });
  const [queue = "default"] = settings.queues;
  return buildJob({ job: sampleScheduledJob(definition.name, queue), queue, definition, settings });
}
