import { LABELS, MANAGED_BY } from "@ondemand-eks/core/manifest";

/** The label selector of the Deployments this project made for long-polling pools. */
export const OUR_POOLS = `${LABELS.managedBy}=${MANAGED_BY},${LABELS.component}=long-polling-agent`;

/** What the pools code reads of a Deployment as the API server stores it. */
export interface StoredDeployment {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { replicas?: number };
  status?: { replicas?: number; readyReplicas?: number };
}

export function deploymentsPath(namespace: string): string {
  return `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`;
}

export function deploymentPath(namespace: string, name: string): string {
  return `${deploymentsPath(namespace)}/${encodeURIComponent(name)}`;
}

/** True for a Deployment carrying our managed-by label: the only ones we change. */
export function isOurs(deployment: StoredDeployment): boolean {
  return deployment.metadata?.labels?.[LABELS.managedBy] === MANAGED_BY;
}
