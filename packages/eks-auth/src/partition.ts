import { partition } from "@aws-sdk/core/client";
import { EksAuthError } from "./errors.js";

/** An AWS region's partition and the DNS suffix of its regional endpoints. */
export interface Partition {
  /** The partition's name in the AWS SDK's table: `aws`, `aws-cn`, `aws-eusc`... */
  id: string;
  dnsSuffix: string;
}

/** A region's shape: `us-east-1`, `eusc-de-east-1`, `us-isof-south-1`. */
const REGION = /^[a-z]{2,}(-[a-z]+)+-\d{1,2}$/;

/**
 * The partition a region belongs to, and its DNS suffix, from the AWS SDK's own
 * partition table (the one its endpoint resolution uses), so a region or partition AWS
 * adds is known as soon as the SDK is updated. A region of the right shape that the table
 * does not match is in `aws`, as the SDK decides it.
 *
 * @example
 * ```ts
 * partitionOf("eusc-de-east-1"); // { id: "aws-eusc", dnsSuffix: "amazonaws.eu" }
 * ```
 */
export function partitionOf(region: string): Partition {
  if (!REGION.test(region)) {
    throw new EksAuthError("EKS_INVALID_OPTIONS", [
      {
        path: "region",
        message: `expected an AWS region such as us-east-1, received ${JSON.stringify(region)}`,
      },
    ]);
  }
  const { name, dnsSuffix } = partition(region);
  return { id: name, dnsSuffix };
}

/**
 * The regional STS endpoint's host name, which EKS tokens must be presigned for.
 *
 * @example
 * ```ts
 * stsHostname("cn-north-1"); // "sts.cn-north-1.amazonaws.com.cn"
 * ```
 */
export function stsHostname(region: string): string {
  return `sts.${region}.${partitionOf(region).dnsSuffix}`;
}
