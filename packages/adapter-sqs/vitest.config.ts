import { defineConfig, mergeConfig } from "vitest/config";
import { serverTestConfig, sharedTestConfig } from "../../vitest.shared.js";

// No global control plane: the test file starts its own (its contract stops the API server).
export default defineConfig(mergeConfig(sharedTestConfig, serverTestConfig));
