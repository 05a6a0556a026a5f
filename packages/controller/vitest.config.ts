import { defineConfig, mergeConfig } from "vitest/config";
import { serverTestConfig, sharedTestConfig } from "../../vitest.shared.js";

// The Stacks API client's tests need only the Buildkite emulator; the controller against
// a cluster and pods that run is tested in packages/e2e.
export default defineConfig(mergeConfig(sharedTestConfig, serverTestConfig));
