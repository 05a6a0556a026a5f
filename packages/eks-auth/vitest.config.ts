import { defineConfig, mergeConfig } from "vitest/config";
import { serverTestConfig, sharedTestConfig } from "../../vitest.shared.js";

// No global control plane: the end-to-end test starts one with a token webhook of its own.
export default defineConfig(mergeConfig(sharedTestConfig, serverTestConfig));
