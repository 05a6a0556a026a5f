import type { DescribeClusterCommand, DescribeClusterCommandOutput } from "@aws-sdk/client-eks";

/**
 * What DescribeCluster needs of an EKS client: `send`.
 *
 * Structural on purpose: an `EKSClient` of `@aws-sdk/client-eks` v3 fits whatever its
 * version (the class itself has private members, so a copy from another version would not
 * be assignable to ours), and a test can pass a plain object.
 *
 * @example
 * ```ts
 * import { EKSClient } from "@aws-sdk/client-eks";
 * const eksClient: EksSender = new EKSClient({ region: "eu-west-1" });
 * ```
 */
export interface EksSender {
  send(
    command: DescribeClusterCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<Pick<DescribeClusterCommandOutput, "cluster">>;
}
