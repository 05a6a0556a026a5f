import { defineConfig, mergeConfig } from "vitest/config";
import { serverTestConfig, sharedTestConfig } from "../../vitest.shared.js";

// The S3 library's tests start a moto server of their own.
export default defineConfig(mergeConfig(sharedTestConfig, serverTestConfig));
