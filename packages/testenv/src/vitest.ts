import { startTestControlPlane, type TestControlPlane } from "./test-run.js";

/** The part of vitest's TestProject a global setup uses. */
interface Provider {
  provide(key: "controlPlane", value: TestControlPlane): void;
}

/**
 * A vitest global setup that starts a private control plane for the package's test run
 * and hands its address to the tests as `inject("controlPlane")`. Packages declare the
 * key once (see their tests/helpers/cluster.ts).
 */
export function controlPlaneGlobalSetup(name: string) {
  return async (project: Provider): Promise<() => Promise<void>> => {
    const run = await startTestControlPlane(name);
    project.provide("controlPlane", run.info);
    return run.teardown;
  };
}
