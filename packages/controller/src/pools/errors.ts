import { OndemandEksError } from "@ondemand-eks/core";

/**
 * Why Buildkite's queue metrics could not be read:
 * - `unauthorized`: Buildkite refused the cluster token (401 or 403).
 * - `unavailable`: no answer within the deadline, a connection error, or a status that
 *   is not a success (5xx, 429, another 4xx).
 * - `invalid`: an answer that is not the metrics' shape.
 */
export type QueueMetricsErrorKind = "unauthorized" | "unavailable" | "invalid";

/**
 * A failed read of Buildkite's queue metrics (code `API_STATUS`). Its message says what
 * failed and never holds the token. Scaling freezes while reads fail.
 *
 * @example
 * ```ts
 * try {
 *   await metrics.read();
 * } catch (error) {
 *   if (error instanceof QueueMetricsError) log.warn("scaling frozen", { reason: error.message });
 * }
 * ```
 */
export class QueueMetricsError extends OndemandEksError {
  declare readonly code: "API_STATUS";
  readonly kind: QueueMetricsErrorKind;
  /** The HTTP status of the answer, when there was one. */
  readonly status?: number;

  constructor(
    details: { kind: QueueMetricsErrorKind; status?: number },
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super("API_STATUS", message, options);
    this.name = "QueueMetricsError";
    this.kind = details.kind;
    if (details.status !== undefined) this.status = details.status;
  }
}
