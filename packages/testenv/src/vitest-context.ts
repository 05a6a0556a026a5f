import { describe, inject } from "vitest";
import type { TestControlPlane } from "./test-run.js";

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: TestControlPlane;
  }
}

/**
 * For test files of packages whose vitest config uses `controlPlaneGlobalSetup`: the
 * control plane's address, and describe blocks that need it.
 */
export function controlPlane(): TestControlPlane {
  return inject("controlPlane");
}

/** A describe block that needs the control plane: skipped, with the reason, without Go. */
export function describeWithCluster(name: string, body: () => void): void {
  const plane = controlPlane();
  if (plane.available) describe(name, body);
  else describe.skip(`${name} (skipped: ${plane.reason})`, body);
}

/** The admin kubeconfig of the test run's control plane. */
export function kubeconfigPath(): string {
  const plane = controlPlane();
  if (!plane.available) throw new Error(plane.reason);
  return plane.kubeconfig;
}
