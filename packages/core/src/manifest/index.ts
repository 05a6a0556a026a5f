/**
 * `@ondemand-eks/core/manifest`: the Kubernetes manifest builders (a Job per Buildkite
 * job, a Deployment per long-polling definition), the names, labels and annotations they
 * write, and the label rules they follow.
 *
 * @module
 */

export { deploymentName, jobName } from "../names.js";
export { type BuildDeploymentOptions, buildDeployment } from "./deployment.js";
export { type BuildJobOptions, buildJob } from "./job.js";
export type {
  Container,
  DeploymentManifest,
  EnvVar,
  JobManifest,
  ObjectMeta,
  PodSpec,
  PodTemplate,
} from "./kubernetes.js";
export { isLabelKey, isLabelValue, toLabelValue } from "./labels.js";
export { ANNOTATIONS, LABELS, MANAGED_BY, MAX_ANNOTATION_LENGTH } from "./metadata.js";
