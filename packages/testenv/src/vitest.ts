import { startTestControlPlane, type TestControlPlane } from "./test-run.js";

/** The part of vitest's TestProject a global setup uses. */
interface Provider {
  provide(key: "controlPlane", value: TestControlPlane): void;
}

/**
 * A vitest global setup that starts a private control plane for the package's test run
 * and hands it to the tests as `inject("controlPlane")` (read it with `controlPlane()`
 * from `@ondemand-eks/testenv/vitest`). Without Go its tests are skipped, with the
 * reason; under CI=true that fails the run.
 *
 * @example
 * // tests/global-setup.ts
 * export default controlPlaneGlobalSetup("submitter");
 */
export function controlPlaneGlobalSetup(name: string) {
  return async (project: Provider): Promise<() => Promise<void>> => {
    const run = await startTestControlPlane(name);
    project.provide("controlPlane", run.info);
    return run.teardown;
  };
}
