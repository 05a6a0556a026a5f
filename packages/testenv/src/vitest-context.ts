import { describe, inject } from "vitest";
import { type Prerequisite, skipReason } from "./prerequisites.js";
import type { TestControlPlane } from "./test-run.js";

/**
 * `@ondemand-eks/testenv/vitest`: for test files. {@link describeWith} runs or skips the
 * tests that need servers or tools; the rest reads the control plane that
 * `controlPlaneGlobalSetup` started for the package's test run.
 *
 * @module
 */

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: TestControlPlane;
  }
}

/**
 * A describe block whose tests need `needs` (from skipUnlessCi, startTestControlPlane or
 * controlPlane()): run when every one is available; otherwise reported as skipped, with
 * the first missing one's reason in its name. Under CI=true a missing one fails the file
 * instead: nothing is skipped there.
 *
 * @example
 * const aws = await skipUnlessCi(() => startMoto("eventbridge"));
 * describeWith([plane.info, aws], "EventBridge -> SQS -> consumer", () => { ... });
 */
export function describeWith(
  needs: Prerequisite<unknown> | readonly Prerequisite<unknown>[],
  name: string,
  body: () => void,
): void {
  const reason = skipReason(Array.isArray(needs) ? needs : [needs as Prerequisite<unknown>]);
  if (reason === undefined) describe(name, body);
  else describe.skip(`${name} (skipped: ${reason})`, body);
}

/**
 * The control plane of the package's test run, for packages whose vitest config uses
 * `controlPlaneGlobalSetup`.
 *
 * @example
 * describeWith([controlPlane(), aws], "ondemand-eks consume sqs", () => { ... });
 */
export function controlPlane(): TestControlPlane {
  return inject("controlPlane");
}

/**
 * `describeWith(controlPlane(), name, body)`: a describe block that needs the test run's
 * control plane.
 *
 * @example
 * describeWithCluster("submit against a real API server", () => { ... });
 */
export function describeWithCluster(name: string, body: () => void): void {
  describeWith(controlPlane(), name, body);
}

/**
 * The admin kubeconfig of the test run's control plane.
 *
 * @example
 * config.loadFromFile(kubeconfigPath());
 */
export function kubeconfigPath(): string {
  const plane = controlPlane();
  if (!plane.available) throw new Error(plane.reason);
  return plane.value.kubeconfig;
}
