import { defineConfig, mergeConfig } from "vitest/config";
import { sharedTestConfig } from "../../vitest.shared.js";

export default defineConfig(
  mergeConfig(sharedTestConfig, {
    test: {
      // A real control plane for the integration tests (see @ondemand-eks/testenv).
      globalSetup: ["tests/global-setup.ts"],
      testTimeout: 120_000,
      hookTimeout: 600_000,
    },
  }),
);
