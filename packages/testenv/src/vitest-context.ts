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

/**
 * A describe block that needs servers a test file started itself: run when `skipReason`
 * is undefined, otherwise reported as skipped with the reason in its name.
 */
export function describeUnless(
  skipReason: string | undefined,
  name: string,
  body: () => void,
): void {
  if (skipReason === undefined) describe(name, body);
  else describe.skip(`${name} (skipped: ${skipReason})`, body);
}

/** A describe block that needs the control plane: skipped, with the reason, without Go. */
export function describeWithCluster(name: string, body: () => void): void {
  const plane = controlPlane();
  describeUnless(plane.available ? undefined : plane.reason, name, body);
}

/** The admin kubeconfig of the test run's control plane. */
export function kubeconfigPath(): string {
  const plane = controlPlane();
  if (!plane.available) throw new Error(plane.reason);
  return plane.kubeconfig;
}
