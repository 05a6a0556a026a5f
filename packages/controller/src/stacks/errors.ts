import { OndemandEksError } from "@ondemand-eks/core";

/**
 * What a failed {@link StacksClient} call means for the caller:
 * - `unauthorized`: Buildkite refused the cluster token (401 or 403); retrying cannot help
 *   until the token is fixed.
 * - `rejected`: Buildkite refused the request itself (a 4xx other than 401, 403 and 429:
 *   an unknown stack, a job that cannot be finished...); repeating it cannot help.
 * - `unavailable`: no usable answer within the call's deadline (connection errors,
 *   timeouts, 429s and 5xx's retried until then, a `Retry-After` beyond the deadline), or
 *   an answer that is not the Stacks API's.
 */
export type StacksApiErrorKind = "unauthorized" | "rejected" | "unavailable";

/**
 * A Stacks API call that failed (code `API_STATUS`). The message names the call and says
 * what to do; it never holds the cluster token.
 *
 * @example
 * ```ts
 * try {
 *   await stacks.register({ key: "ondemand-eks", queueKey: "linux" });
 * } catch (error) {
 *   if (error instanceof StacksApiError && error.kind === "unauthorized") process.exit(78);
 *   throw error;
 * }
 * ```
 */
export class StacksApiError extends OndemandEksError {
  declare readonly code: "API_STATUS";
  readonly kind: StacksApiErrorKind;
  /** The HTTP status of the answer that decided the failure, when there was one. */
  readonly status?: number;
  /** The client method that failed: `register`, `scheduledJobs`, `finish`... */
  readonly call: string;

  constructor(
    details: { kind: StacksApiErrorKind; call: string; status?: number },
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super("API_STATUS", message, options);
    this.name = "StacksApiError";
    this.kind = details.kind;
    this.call = details.call;
    if (details.status !== undefined) this.status = details.status;
  }
}
