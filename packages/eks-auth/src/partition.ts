import { EksAuthError } from "./errors.js";

/** An AWS region's partition and the DNS suffix of its regional endpoints. */
export interface Partition {
  id: "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b";
  dnsSuffix: string;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The partition a region belongs to, from its name, as the AWS SDKs decide it. */
export function partitionOf(region: string): Partition {
  if (!REGION.test(region)) {
    throw new EksAuthError("EKS_INVALID_OPTIONS", [
      {
        path: "region",
        message: `expected an AWS region such as us-east-1, received ${JSON.stringify(region)}`,
      },
    ]);
  }
  if (region.startsWith("cn-")) return { id: "aws-cn", dnsSuffix: "amazonaws.com.cn" };
  if (region.startsWith("us-gov-")) return { id: "aws-us-gov", dnsSuffix: "amazonaws.com" };
  if (region.startsWith("us-isob-")) return { id: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov" };
  if (region.startsWith("us-iso-")) return { id: "aws-iso", dnsSuffix: "c2s.ic.gov" };
  // Other isolated partitions (us-isof, eu-isoe...) have endpoints of their own: refuse
  // rather than sign for the wrong host.
  if (/^[a-z]{2}-iso[a-z]*-/.test(region)) {
    throw new EksAuthError("EKS_INVALID_OPTIONS", [
      {
        path: "region",
        message: `${region} is in an isolated partition this version does not know the STS endpoint of`,
      },
    ]);
  }
  return { id: "aws", dnsSuffix: "amazonaws.com" };
}

/** The regional STS endpoint's host name, which EKS tokens must be presigned for. */
export function stsHostname(region: string): string {
  return `sts.${region}.${partitionOf(region).dnsSuffix}`;
}
