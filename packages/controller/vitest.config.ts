import { defineConfig, mergeConfig } from "vitest/config";
import { integrationTestConfig, sharedTestConfig } from "../../vitest.shared.js";

// The Stacks API client's tests need only the Buildkite emulator; the pools' tests need
// an API server too (one for the run, tests/global-setup.ts). The controller against a
// cluster and pods that run is tested in packages/e2e.
export default defineConfig(mergeConfig(sharedTestConfig, integrationTestConfig));
