import { type Cluster, DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import type { EksSender } from "./eks-client.js";
import { EksAuthError } from "./errors.js";

export { EKSClient };

/** Where a cluster's API server is, and the CA its certificate chains to. */
export interface ClusterEndpoint {
  /** `https://...` */
  endpoint: string;
  /** The cluster CA, PEM. */
  caPem: string;
}

/**
 * Looks the cluster up with DescribeCluster (IAM: eks:DescribeCluster on the cluster).
 * A missing cluster, a denied call and a cluster that is not ACTIVE each get an error that
 * says which, with what to check.
 */
export async function describeCluster(
  client: EksSender,
  clusterName: string,
  region: string,
  timeoutMs = 15_000,
): Promise<ClusterEndpoint> {
  let cluster: Cluster | undefined;
  try {
    ({ cluster } = await client.send(new DescribeClusterCommand({ name: clusterName }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    }));
  } catch (error) {
    const name = (error as { name?: string }).name ?? "";
    const message = (error as Error).message;
    if (name === "AbortError" || name === "TimeoutError") {
      throw new EksAuthError(
        "EKS_DESCRIBE_FAILED",
        `DescribeCluster for "${clusterName}" in ${region} did not answer within ${timeoutMs} ms`,
        { cause: error },
      );
    }
    // The credentials themselves are wrong: no permission would help.
    const badCredentials = [
      "UnrecognizedClientException",
      "InvalidClientTokenId",
      "InvalidSignatureException",
      "ExpiredTokenException",
    ];
    if (badCredentials.includes(name)) {
      throw new EksAuthError(
        "EKS_CREDENTIALS",
        `the AWS credentials were refused by EKS in ${region} (${name}): check the access key, secret and session`,
        { cause: error },
      );
    }
    if (name === "ResourceNotFoundException") {
      throw new EksAuthError(
        "EKS_CLUSTER_NOT_FOUND",
        `EKS cluster "${clusterName}" does not exist in ${region} (check the name and the region)`,
        { cause: error },
      );
    }
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    // A 403 whose body the SDK could not read (moto answers EKS errors in XML) is taken
    // for a denial too; a recognised error keeps its own words.
    const unreadable = name === "" || name === "SyntaxError" || name === "Error";
    if (name === "AccessDeniedException" || (status === 403 && unreadable)) {
      const detail = name === "AccessDeniedException" ? `${name}: ${message}` : `HTTP ${status}`;
      throw new EksAuthError(
        "EKS_ACCESS_DENIED",
        `not allowed to describe EKS cluster "${clusterName}" in ${region}: grant eks:DescribeCluster on it, or give its endpoint and CA (${detail})`,
        { cause: error },
      );
    }
    throw new EksAuthError(
      "EKS_DESCRIBE_FAILED",
      `DescribeCluster for "${clusterName}" in ${region} failed: ${name || "error"}: ${message}`,
      { cause: error },
    );
  }
  if (!cluster) {
    throw new EksAuthError(
      "EKS_DESCRIBE_FAILED",
      `DescribeCluster for "${clusterName}" returned no cluster`,
    );
  }
  // UPDATING (a version upgrade, a config change) keeps serving; the rest cannot.
  if (cluster.status !== "ACTIVE" && cluster.status !== "UPDATING") {
    throw new EksAuthError(
      "EKS_CLUSTER_NOT_ACTIVE",
      `EKS cluster "${clusterName}" in ${region} is ${cluster.status ?? "in an unknown state"}, not ACTIVE: its API server cannot take Jobs`,
    );
  }
  const ca = cluster.certificateAuthority?.data;
  if (!cluster.endpoint || !ca) {
    throw new EksAuthError(
      "EKS_DESCRIBE_FAILED",
      `EKS cluster "${clusterName}" has no ${cluster.endpoint ? "certificate authority" : "endpoint"} in its description`,
    );
  }
  return { endpoint: cluster.endpoint, caPem: Buffer.from(ca, "base64").toString("utf8") };
}
