import { InvalidEventError, InvalidPodDefinitionError } from "../errors.js";
import type { ScheduledJob } from "../events/types.js";
import { jobName } from "../names.js";
import type { PodDefinition } from "../pod-definition/schema.js";
import type { SchedulerSettings } from "../settings.js";
import { agentConnectionEnv, agentTags, namespaceFor, podSpec } from "./containers.js";
import type { JobManifest } from "./kubernetes.js";
import { ANNOTATIONS, computeLabels, jobAnnotations, jobLabels, mergeSorted } from "./metadata.js";

/** Whether the controller admits Jobs under a cap, so they must start suspended. */
function admissionCapped(settings: SchedulerSettings): boolean {
  return settings.maxInFlight !== undefined || settings.maxInFlightTotal !== undefined;
}

export interface BuildJobOptions {
  readonly job: ScheduledJob;
  /**
   * The queue the job was routed to (`routeJob`'s `queue`): it goes into the agent's
   * tags, so it must be one of `settings.queues`. The job's rules are not read again.
   */
  readonly queue: string;
  readonly definition: PodDefinition;
  readonly settings: SchedulerSettings;
}

/**
 * Builds the `batch/v1` Job that runs one Buildkite job: a pod whose one agent container
 * acquires exactly that job, with the definition's services as native sidecars.
 *
 * Pure and deterministic: the same input gives the same object, key for key; inputs are
 * never mutated. Only the job's UUID and its queue reach the agent's environment, and a
 * queue the settings do not serve throws {@link InvalidEventError}; nothing from the
 * event reaches a command or an image.
 *
 * @example
 * ```ts
 * const route = routeJob(job, settings);
 * if (route.kind === "schedule") {
 *   const manifest = buildJob({ job, queue: route.queue, definition, settings });
 *   manifest.metadata.name; // "buildkite-<job uuid>"
 * }
 * ```
 */
export function buildJob({ job, queue, definition, settings }: BuildJobOptions): JobManifest {
  if (definition.mode !== "one-shot") {
    throw new InvalidPodDefinitionError([
      {
        path: "mode",
        message: `definition "${definition.name}" is ${definition.mode}: build a Deployment for it`,
      },
    ]);
  }
  if (!settings.queues.includes(queue)) {
    throw new InvalidEventError([
      {
        path: "queue",
        message: `queue ${JSON.stringify(queue)} is not served here (serving: ${settings.queues.join(", ")})`,
      },
    ]);
  }

  const labels = mergeSorted(undefined, jobLabels(job, queue, definition));
  const context = mergeSorted(undefined, jobAnnotations(job, queue));
  const spec = podSpec(definition, "Never", [
    ...agentConnectionEnv(settings),
    { name: "BUILDKITE_AGENT_ACQUIRE_JOB", value: job.uuid },
    // The pod, and so the Job, fails when the Buildkite job fails: `kubectl get jobs`
    // and the Job controller's metrics tell the truth (the agent exits 0 otherwise).
    { name: "BUILDKITE_AGENT_REFLECT_EXIT_STATUS", value: "true" },
    { name: "BUILDKITE_AGENT_TAGS", value: agentTags(queue, definition) },
  ]);

  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: jobName(job.uuid),
      namespace: namespaceFor(definition, settings),
      labels,
      annotations: context,
    },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      activeDeadlineSeconds: settings.activeDeadlineSeconds,
      // With a cap on Jobs in flight, every Job waits suspended (no pod) until the
      // controller admits it; without one, the field is left out, as before.
      ...(admissionCapped(settings) ? { suspend: true } : {}),
      template: {
        metadata: {
          labels: mergeSorted(definition.metadata.labels, {
            ...labels,
            ...computeLabels(definition),
          }),
          annotations: mergeSorted(definition.metadata.annotations, {
            ...context,
            [ANNOTATIONS.safeToEvict]: "false",
          }),
        },
        spec,
      },
    },
  };
}
