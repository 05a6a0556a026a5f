import { type ClusterAuth, inClusterAuth, kubeconfigAuth } from "@ondemand-eks/submitter";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { ClusterConfig } from "./config.js";

export interface ClusterAuthOptions {
  /** The environment: KUBECONFIG, the in-cluster service host and port. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** AWS credentials for an EKS cluster; default the AWS SDK's chain. */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** Longest wait for DescribeCluster and the credential provider. */
  readonly timeoutMs?: number;
}

/**
 * The ClusterAuth a configuration names: a kubeconfig, the pod's ServiceAccount, or an
 * EKS cluster with IAM. EKS auth (and the AWS SDK under it) is imported only when used.
 */
export async function clusterAuthFor(
  cluster: ClusterConfig,
  options: ClusterAuthOptions,
): Promise<ClusterAuth> {
  switch (cluster.kind) {
    case "in-cluster":
      return inClusterAuth({ env: options.env });
    case "kubeconfig": {
      // A KUBECONFIG list (a:b) is merged by client-node's own loader.
      const fromEnv = options.env.KUBECONFIG;
      const path = cluster.path ?? (fromEnv && !fromEnv.includes(":") ? fromEnv : undefined);
      return kubeconfigAuth({
        ...(path ? { path } : {}),
        ...(cluster.context ? { context: cluster.context } : {}),
      });
    }
    case "eks": {
      const { eksAuth } = await import("@ondemand-eks/eks-auth");
      return eksAuth({
        clusterName: cluster.clusterName,
        region: cluster.region,
        ...(options.credentials ? { credentials: options.credentials } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        ...(cluster.endpoint && cluster.caPem
          ? { endpoint: cluster.endpoint, caPem: cluster.caPem }
          : {}),
      });
    }
  }
}
