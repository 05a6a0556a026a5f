import { EKSClient } from "@aws-sdk/client-eks";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { ClusterAuth } from "@ondemand-eks/submitter";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { type ClusterEndpoint, describeCluster } from "./cluster.js";
import { partitionOf } from "./partition.js";
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
  /** For DescribeCluster; default: a client for the region with the same credentials. */
  eksClient?: EKSClient;
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
  const credentials = options.credentials ?? defaultProvider();
  let cluster: ClusterEndpoint;
  if (options.endpoint && options.caPem) {
    cluster = { endpoint: options.endpoint, caPem: options.caPem };
  } else {
    const client = options.eksClient ?? new EKSClient({ region: options.region, credentials });
    cluster = await describeCluster(client, options.clusterName, options.region);
  }
  const tokens = new TokenSource({
    clusterName: options.clusterName,
    region: options.region,
    credentials,
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
