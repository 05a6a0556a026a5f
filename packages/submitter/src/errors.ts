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

/**
 * What a failed {@link ClusterApi} call means for the caller:
 * - `rejected`: the API server refused the request (any 4xx but 401, after refreshing);
 *   repeating it cannot help. `status` and `reason` say why.
 * - `unauthorized`: the credentials were refused (401), also after one refresh.
 * - `unavailable`: no usable answer within the deadline (connection errors, timeouts, 429s
 *   and 5xx's retried until then), a connection that cannot work as configured (TLS
 *   trust, an unknown host), an answer that is not the Kubernetes API's, or the caller's
 *   cancel.
 */
export type ClusterApiErrorKind = "rejected" | "unavailable" | "unauthorized";

/**
 * A {@link ClusterApi} call that failed (code `API_STATUS`). The message names the method,
 * the path and what the server (or the connection) said, never credentials.
 *
 * @example
 * ```ts
 * try {
 *   await api.replace(leasePath, lease);
 * } catch (error) {
 *   if (error instanceof ClusterApiError && error.reason === "Conflict") {
 *     // Someone else renewed the Lease first: read it again.
 *   } else throw error;
 * }
 * ```
 */
export class ClusterApiError extends OndemandEksError {
  declare readonly code: "API_STATUS";
  readonly kind: ClusterApiErrorKind;
  /** The HTTP status of the last answer, when there was one that decided the failure. */
  readonly status?: number;
  /** The Kubernetes Status reason (`NotFound`, `Conflict`, `AlreadyExists`, `Forbidden`...). */
  readonly reason?: string;
  /** Requests sent for the call (pages of a list included). */
  readonly attempts: number;

  constructor(
    details: {
      readonly kind: ClusterApiErrorKind;
      readonly message: string;
      readonly status?: number;
      readonly reason?: string;
      readonly attempts: number;
    },
    options?: { readonly cause?: unknown },
  ) {
    super("API_STATUS", details.message, options);
    this.name = "ClusterApiError";
    this.kind = details.kind;
    if (details.status !== undefined) this.status = details.status;
    if (details.reason !== undefined) this.reason = details.reason;
    this.attempts = details.attempts;
  }
}
