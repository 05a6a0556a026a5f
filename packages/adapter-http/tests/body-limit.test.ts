import { readFileSync } from "node:fs";
import { DEFAULT_BODY_LIMIT, startWebhookServer } from "@ondemand-eks/adapter-http";
import { describe, expect, it } from "vitest";
import { largestWebhook } from "./fixtures/largest-webhook.js";
import { capturedLog, post, sign } from "./helpers.js";

const TOKEN_FOR_SIZE = "a-token-of-the-body-limit-tests-0123456789";

describe("the default body limit", () => {
  const body = largestWebhook();
  const size = Buffer.byteLength(body);

  it("holds the largest job webhook Buildkite can send, with half as much again to spare", () => {
    expect(DEFAULT_BODY_LIMIT).toBeGreaterThanOrEqual(1.5 * size);
  });

  it("is explained with the figure measured here", () => {
    // Prepare
    const source = readFileSync(new URL("../src/limits.ts", import.meta.url), "utf8");
    // Assess: the comment says what this fixture measures, so neither drifts alone.
    expect(source).toContain(`is ${size.toLocaleString("en-US")} bytes`);
  });

  it("lets the largest webhook through a server with the default limits", async () => {
    // Prepare
    const { log } = capturedLog();
    const received: unknown[] = [];
    const server = await startWebhookServer({
      port: 0,
      host: "127.0.0.1",
      token: TOKEN_FOR_SIZE,
      schedule: async (input) => {
        received.push(input);
        return { outcome: "ignored", reason: "test", durationMs: 0 };
      },
      ready: async () => true,
      log,
    });
    try {
      // Act
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await post(server.url, body, {
        "x-buildkite-signature": sign(body, timestamp, TOKEN_FOR_SIZE),
      });
      // Assess
      expect(response.status).toBe(200);
      expect(received).toHaveLength(1);
    } finally {
      await server.close(1_000);
    }
  });
});
