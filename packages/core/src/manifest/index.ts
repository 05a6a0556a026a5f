/**
 * Kubernetes manifest builders: a Job per Buildkite job, a Deployment per long-polling
 * definition, and the label rules they follow.
 *
 * @module
 */
export { type BuildDeploymentOptions, buildDeployment } from "./deployment.js";
export { type BuildJobOptions, buildJob } from "./job.js";
export type * from "./kubernetes.js";
export { fnv1a32, isLabelKey, isLabelValue, LABEL_VALUE, toLabelValue } from "./labels.js";
export { ANNOTATIONS, LABELS, MANAGED_BY, MAX_ANNOTATION_LENGTH } from "./metadata.js";
