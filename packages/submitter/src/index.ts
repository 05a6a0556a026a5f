/**
 * Submits Kubernetes Jobs built by @ondemand-eks/core to an API server: idempotent,
 * with typed outcomes, deadline-bounded retries of transient failures, and pluggable
 * cluster auth (kubeconfig, in-cluster ServiceAccount, EKS IAM via @ondemand-eks/eks-auth);
 * and a small client of the rest of the Kubernetes API ({@link ClusterApi}) on the same
 * connections and retry rules.
 */
export type { ClusterAuth, ClusterTls } from "./auth/cluster-auth.js";
export { type InClusterAuthOptions, inClusterAuth } from "./auth/in-cluster.js";
export { type KubeconfigAuthOptions, kubeconfigAuth } from "./auth/kubeconfig.js";
export {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  type RetryPolicy,
} from "./backoff.js";
export {
  type ApplyOptions,
  type CallOptions,
  ClusterApi,
  type ClusterApiOptions,
  type DeleteOptions,
  type ListOptions,
  type ListResult,
  type WriteOptions,
} from "./cluster-api.js";
export { ClusterApiError, type ClusterApiErrorKind, ClusterAuthError } from "./errors.js";
export type { Created, Exists, Rejected, SubmitOutcome, Unavailable } from "./outcome.js";
export { type SubmitOptions, Submitter, type SubmitterOptions } from "./submitter.js";
