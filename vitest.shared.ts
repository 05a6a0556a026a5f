import type { ViteUserConfig } from "vitest/config";

/**
 * Test settings every package shares: resolve workspace packages to their TypeScript
 * sources (the `@ondemand-eks/source` export condition), and fail any test that writes
 * to the console, so stray output never hides in a passing run.
 */
export const sharedTestConfig: ViteUserConfig = {
  resolve: { conditions: ["@ondemand-eks/source", "import", "node", "default"] },
  ssr: { resolve: { conditions: ["@ondemand-eks/source", "import", "node", "default"] } },
  test: {
    include: ["tests/**/*.test.ts"],
    // Property tests run hundreds of cases; on a busy 2-core machine (every package's
    // tests and three control planes at once) 5 s is too tight. Nothing here is timed.
    testTimeout: 30_000,
    setupFiles: [new URL("./vitest.fail-on-console.ts", import.meta.url).pathname],
    onConsoleLog: () => false,
  },
};

/**
 * For packages with integration tests: a real control plane for the run (see
 * @ondemand-eks/testenv), and room for its first build and for tests that restart it.
 */
export const integrationTestConfig: ViteUserConfig = {
  test: {
    globalSetup: ["tests/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
};

/** Room for test files that start their own servers (control plane, moto) in hooks. */
export const serverTestConfig: ViteUserConfig = {
  test: { testTimeout: 120_000, hookTimeout: 600_000 },
};
