import { type ErrorCode, type Issue, OndemandEksError } from "@ondemand-eks/core";

/**
 * The codes of an {@link EksAuthError}:
 * - `EKS_INVALID_OPTIONS`: a cluster name, region, endpoint or CA that cannot work (each
 *   issue's `path` names the option);
 * - `EKS_CLUSTER_NOT_FOUND`: DescribeCluster found no such cluster in the region;
 * - `EKS_ACCESS_DENIED`: the identity may not call eks:DescribeCluster on it;
 * - `EKS_CLUSTER_NOT_ACTIVE`: the cluster exists but its API server cannot take Jobs;
 * - `EKS_DESCRIBE_FAILED`: DescribeCluster failed otherwise, or did not answer in time;
 * - `EKS_CREDENTIALS`: no AWS credentials could be had, or EKS refused them.
 */
export type EksAuthErrorCode = Extract<ErrorCode, `EKS_${string}`>;

/**
 * A problem with EKS authentication, with what to do about it in the message. Match on
 * `code` (or `hasErrorCode` from `@ondemand-eks/core`), which holds across the ESM and
 * CommonJS copies of this package.
 *
 * @example
 * ```ts
 * if (hasErrorCode(error, "EKS_ACCESS_DENIED")) console.error(error.message);
 * ```
 */
export class EksAuthError extends OndemandEksError {
  declare readonly code: EksAuthErrorCode;

  /**
   * Whether trying again may succeed: true for `EKS_CREDENTIALS` only (an instance
   * metadata or STS hiccup). `@ondemand-eks/submitter` retries an auth error with
   * `retryable: true` within its deadline.
   */
  readonly retryable: boolean;

  constructor(
    code: EksAuthErrorCode,
    problem: readonly Issue[] | string,
    options?: { readonly cause?: unknown },
  ) {
    super(code, problem, options);
    this.name = "EksAuthError";
    this.retryable = code === "EKS_CREDENTIALS";
  }
}
