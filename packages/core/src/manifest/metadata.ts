import type { ScheduledJob } from "../events/types.js";
import type { PodDefinition } from "../pod-definition/schema.js";
import { defineOwn } from "./clone.js";
import { toLabelValue } from "./labels.js";

/** Label and annotation keys the project sets. */
export const LABELS = {
  managedBy: "app.kubernetes.io/managed-by",
  name: "app.kubernetes.io/name",
  component: "app.kubernetes.io/component",
  jobUuid: "buildkite.com/job-uuid",
  queue: "buildkite.com/queue",
  pipeline: "buildkite.com/pipeline",
  buildNumber: "buildkite.com/build-number",
  organization: "buildkite.com/organization",
  podDefinition: "ondemand-eks.io/pod-definition",
  /** On the pods of a `compute: fargate` definition (value `fargate`): the Fargate profile selects it. */
  compute: "ondemand-eks.io/compute",
} as const;

export const ANNOTATIONS = {
  buildUrl: "buildkite.com/build-url",
  jobLabel: "buildkite.com/job-label",
  stepKey: "buildkite.com/step-key",
  branch: "buildkite.com/branch",
  commit: "buildkite.com/commit",
  pipeline: "buildkite.com/pipeline",
  organization: "buildkite.com/organization",
  queue: "buildkite.com/queue",
  /** Buildkite's priority for the job, a decimal integer; the controller admits by it. */
  priority: "buildkite.com/job-priority",
  /**
   * Set by the controller, never by the builder: the reason it suspended the Job for good
   * (the Buildkite job ended or was failed), and when (RFC 3339). A stopped Job is kept
   * for a while as a tombstone, so the job is not scheduled again, then deleted.
   */
  stopped: "ondemand-eks.io/stopped",
  stoppedAt: "ondemand-eks.io/stopped-at",
  /** Set by the controller once it has told the user about a job an agent owns. */
  notified: "ondemand-eks.io/notified",
  safeToEvict: "cluster-autoscaler.kubernetes.io/safe-to-evict",
  /** On a long-polling Deployment: the first 16 hex digits of its definition's SHA-256. */
  podDefinitionHash: "ondemand-eks.io/pod-definition-hash",
} as const;

export const MANAGED_BY = "ondemand-eks";

/** Longest annotation value we write; Kubernetes caps all annotations together at 256 KiB. */
export const MAX_ANNOTATION_LENGTH = 2048;

/** Cuts to {@link MAX_ANNOTATION_LENGTH} UTF-16 units without splitting a surrogate pair. */
function truncate(value: string): string {
  if (value.length <= MAX_ANNOTATION_LENGTH) return value;
  const cut = value.slice(0, MAX_ANNOTATION_LENGTH);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** Labels that select one Buildkite job's Job and pod. Values are sanitised to fit. */
export function jobLabels(
  job: ScheduledJob,
  queue: string,
  definition: PodDefinition,
): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.name]: "buildkite-agent",
    [LABELS.component]: "one-shot-agent",
    [LABELS.jobUuid]: job.uuid,
    [LABELS.queue]: toLabelValue(queue),
    [LABELS.pipeline]: toLabelValue(job.pipeline.slug),
    [LABELS.buildNumber]: String(job.build.number),
    [LABELS.podDefinition]: definition.name,
  };
  if (job.organization.slug !== undefined)
    labels[LABELS.organization] = toLabelValue(job.organization.slug);
  return labels;
}

/**
 * Pod labels that follow from where a definition runs: `ondemand-eks.io/compute: fargate`
 * for a Fargate definition, which its Fargate profile selects; none otherwise.
 */
export function computeLabels(definition: PodDefinition): Record<string, string> {
  return definition.compute === "fargate" ? { [LABELS.compute]: "fargate" } : {};
}

/** Annotations with the human context, in full (truncated only past {@link MAX_ANNOTATION_LENGTH}). */
export function jobAnnotations(job: ScheduledJob, queue: string): Record<string, string> {
  const context: [string, string | undefined][] = [
    [ANNOTATIONS.buildUrl, job.build.url],
    [ANNOTATIONS.jobLabel, job.label],
    [ANNOTATIONS.stepKey, job.stepKey],
    [ANNOTATIONS.branch, job.build.branch],
    [ANNOTATIONS.commit, job.build.commit],
    [ANNOTATIONS.pipeline, job.pipeline.slug],
    [ANNOTATIONS.organization, job.organization.slug],
    [ANNOTATIONS.queue, queue],
    [ANNOTATIONS.priority, job.priority === undefined ? undefined : String(job.priority)],
  ];
  const annotations: Record<string, string> = {};
  for (const [key, value] of context) {
    if (value !== undefined) annotations[key] = truncate(value);
  }
  return annotations;
}

/** `base` then `ours`, ours winning, keys sorted so output is stable whatever the input order. */
export function mergeSorted(
  base: Record<string, string> | undefined,
  ours: Record<string, string>,
): Record<string, string> {
  const keys = base
    ? [...new Set([...Object.keys(base), ...Object.keys(ours)])]
    : Object.keys(ours);
  const out: Record<string, string> = {};
  for (const key of keys.sort()) {
    defineOwn(out, key, Object.hasOwn(ours, key) ? ours[key] : base?.[key]);
  }
  return out;
}
