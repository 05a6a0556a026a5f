import { OndemandEksError } from "@ondemand-eks/core";

/**
 * A kubeconfig or in-cluster environment that cannot be used, with what is wrong
 * (code `INVALID_CLUSTER_CONFIG`). Thrown by `kubeconfigAuth` and `inClusterAuth`, never
 * by `Submitter.submit`.
 *
 * @example
 * ```ts
 * try {
 *   auth = await kubeconfigAuth();
 * } catch (error) {
 *   if (hasErrorCode(error, "INVALID_CLUSTER_CONFIG")) console.error(error.message);
 * }
 * ```
 */
export class ClusterAuthError extends OndemandEksError {
  declare readonly code: "INVALID_CLUSTER_CONFIG";

  constructor(message: string, options?: { readonly cause?: unknown }) {
    super("INVALID_CLUSTER_CONFIG", message, options);
    this.name = "ClusterAuthError";
  }
}

/**
 * An API server's answer with a status outside 2xx (code `API_STATUS`), with its body (a
 * Kubernetes Status, normally). The submitter sorts it into an outcome; it never reaches
 * the submitter's callers.
 */
export class ApiError extends OndemandEksError {
  declare readonly code: "API_STATUS";

  constructor(
    /** The HTTP status. */
    readonly status: number,
    readonly body: string,
    readonly headers: Readonly<Record<string, string>>,
  ) {
    super("API_STATUS", `HTTP ${status}`);
    this.name = "ApiError";
  }
}
