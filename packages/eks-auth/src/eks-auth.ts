import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { ClusterAuth } from "@ondemand-eks/submitter";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { ClusterEndpoint } from "./cluster.js";
import type { EksSender } from "./eks-client.js";
import { EksAuthError } from "./errors.js";
import { partitionOf } from "./partition.js";
import { checkClusterName } from "./token.js";
import { TokenSource } from "./token-source.js";

export interface EksAuthOptions {
  clusterName: string;
  region: string;
  /**
   * Default: the AWS SDK's chain: environment, shared config and SSO, web identity
   * (IRSA), EKS Pod Identity and ECS container credentials, then instance metadata.
   */
  credentials?: AwsCredentialIdentityProvider;
  /** The API server and its CA (PEM). Given both, no AWS call is made to find them. */
  endpoint?: string;
  caPem?: string;
  /**
   * For DescribeCluster: an `EKSClient` (any v3 version) or anything with its `send`.
   * Default: a client for the region with the same credentials.
   */
  eksClient?: EksSender;
  /** Longest wait for DescribeCluster, and for the credential provider. Default 15 s. */
  timeoutMs?: number;
  /** For tests: the clock used for signing and refresh. */
  now?: () => number;
}

/**
 * A ClusterAuth for @ondemand-eks/submitter that authenticates as an IAM identity, the
 * way `aws eks get-token` does, refreshing tokens before they expire. After a 401 the
 * submitter calls refresh(), which signs a new token with fresh credentials.
 */
export async function eksAuth(options: EksAuthOptions): Promise<ClusterAuth> {
  partitionOf(options.region);
  checkClusterName(options.clusterName);
  if ((options.endpoint === undefined) !== (options.caPem === undefined)) {
    const [missing, given] =
      options.endpoint === undefined ? ["endpoint", "caPem"] : ["caPem", "endpoint"];
    throw new EksAuthError("EKS_INVALID_OPTIONS", [
      {
        path: missing,
        message: `required when ${given} is given (give both, or neither to use DescribeCluster)`,
      },
    ]);
  }
  if (options.endpoint !== undefined && !/^https:\/\/[^/\s]+/.test(options.endpoint)) {
    throw new EksAuthError("EKS_INVALID_OPTIONS", [
      {
        path: "endpoint",
        message: `expected an https:// URL, received ${JSON.stringify(options.endpoint)}`,
      },
    ]);
  }
  const timeoutMs = options.timeoutMs ?? 15_000;
  const credentials = options.credentials ?? defaultProvider();
  let cluster: ClusterEndpoint;
  if (options.endpoint && options.caPem) {
    cluster = { endpoint: options.endpoint, caPem: options.caPem };
  } else {
    // The EKS client is loaded only for this lookup: given the endpoint and CA, a cold
    // start (a Lambda function's) does not pay for it.
    const { describeCluster, EKSClient } = await import("./cluster.js");
    const client =
      options.eksClient ??
      new EKSClient({
        region: options.region,
        credentials,
        requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
        maxAttempts: 2,
      });
    cluster = await describeCluster(client, options.clusterName, options.region, timeoutMs);
  }
  const tokens = new TokenSource({
    clusterName: options.clusterName,
    region: options.region,
    credentials,
    credentialsTimeoutMs: timeoutMs,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    server: cluster.endpoint.replace(/\/+$/, ""),
    tls: { ca: cluster.caPem },
    description: `IAM credentials for EKS cluster "${options.clusterName}" in ${options.region}`,
    async headers() {
      return { Authorization: `Bearer ${(await tokens.get()).token}` };
    },
    async refresh() {
      await tokens.refresh();
      return true;
    },
  };
}
