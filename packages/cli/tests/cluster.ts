import { BatchV1Api, KubeConfig } from "@kubernetes/client-node";
import type { TestControlPlane } from "@ondemand-eks/testenv";
import { describe, inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: TestControlPlane;
  }
}

export const controlPlane = inject("controlPlane");

/** A describe block that needs the control plane: skipped, with the reason, without Go. */
export function describeWithCluster(name: string, body: () => void): void {
  if (controlPlane.available) describe(name, body);
  else describe.skip(`${name} (skipped: ${controlPlane.reason})`, body);
}

export function kubeconfigPath(): string {
  if (!controlPlane.available) throw new Error(controlPlane.reason);
  return controlPlane.kubeconfig;
}

/** Whether a Job of that name is stored in the namespace. */
export async function jobExists(name: string, namespace = "buildkite"): Promise<boolean> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath());
  const list = await config.makeApiClient(BatchV1Api).listNamespacedJob({ namespace });
  return list.items.some((job) => job.metadata?.name === name);
}
