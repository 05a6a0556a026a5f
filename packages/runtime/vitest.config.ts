import { defineConfig, mergeConfig } from "vitest/config";
import { integrationTestConfig, sharedTestConfig } from "../../vitest.shared.js";

export default defineConfig(mergeConfig(sharedTestConfig, integrationTestConfig));
