import { defineConfig, mergeConfig } from "vitest/config";
import { serverTestConfig, sharedTestConfig } from "../../vitest.shared.js";

export default defineConfig(mergeConfig(sharedTestConfig, serverTestConfig));
