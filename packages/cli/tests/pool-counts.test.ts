import { startOpsServer } from "@ondemand-eks/adapter-http";
import { type PodDefinition, parsePodDefinition, STALE_METRICS_MS } from "@ondemand-eks/core";
import { silentLogger } from "@ondemand-eks/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { type PoolCount, type PoolCountSource, poolCountsRoute } from "../src/pool-counts.js";

// GET /pools/<definition> on the controller's operations server: what KEDA's
// `metrics-api` scaler reads (deploy/kubernetes/examples/keda-scaledobject.yaml).

const NOW = Date.parse("2025-06-01T12:00:00.000Z");
const AGENT = { image: "buildkite/agent:3" };
const LIBRARY = new Map<string, PodDefinition>(
  [
    {
      name: "scaled",
      mode: "long-polling",
      longPolling: { queue: "linux", scaling: { maxReplicas: 10 } },
      agent: AGENT,
    },
    {
      name: "fixed",
      mode: "long-polling",
      longPolling: { queue: "fixed", replicas: 2 },
      agent: AGENT,
    },
    { name: "default", agent: AGENT },
  ].map((input) => {
    const definition = parsePodDefinition(input);
    return [definition.name, definition];
  }),
);

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** An operations server serving pool counts from `desired`; its URL. */
async function serve(desired: Map<string, PoolCount>): Promise<string> {
  const source: PoolCountSource = {
    desired: () => desired,
    definition: async (name) => LIBRARY.get(name),
    now: () => NOW,
  };
  const ops = await startOpsServer({
    port: 0,
    host: "127.0.0.1",
    ready: async () => true,
    log: silentLogger,
    routes: poolCountsRoute(source),
  });
  closers.push(() => ops.close());
  return ops.url;
}

async function get(url: string, method = "GET"): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { method });
  return { status: response.status, body: await response.json() };
}

describe("GET /pools/<definition>", () => {
  it("answers a scaled pool's desired replicas in the shape KEDA's metrics-api reads", async () => {
    // Prepare
    const at = NOW - 5_000;
    const url = await serve(new Map([["scaled", { replicas: 3, wanted: 5, at }]]));

    // Act
    const answer = await get(`${url}/pools/scaled`);

    // Assess
    expect(answer).toEqual({
      status: 200,
      body: {
        pool: "scaled",
        queue: "linux",
        desiredReplicas: 3,
        wanted: 5,
        at: new Date(at).toISOString(),
      },
    });
  });

  it("answers 503 while the pool's queue metrics are stale or not read yet", async () => {
    // Prepare
    const at = NOW - STALE_METRICS_MS - 1;
    const stale = await serve(new Map([["scaled", { replicas: 3, wanted: 3, at }]]));
    const none = await serve(new Map());

    // Act
    const old = await get(`${stale}/pools/scaled`);
    const unread = await get(`${none}/pools/scaled`);

    // Assess
    expect(old).toEqual({
      status: 503,
      body: {
        pool: "scaled",
        queue: "linux",
        at: new Date(at).toISOString(),
        error: `queue metrics are stale: last read at ${new Date(at).toISOString()}`,
      },
    });
    expect(unread).toEqual({
      status: 503,
      body: { pool: "scaled", queue: "linux", error: "no queue metrics read yet" },
    });
  });

  it("answers 404 for a name that is not a scaled pool, 405 for another method", async () => {
    // Prepare
    const url = await serve(new Map([["scaled", { replicas: 1, wanted: 1, at: NOW }]]));

    // Act
    const answers = await Promise.all(
      ["missing", "fixed", "default", "%E0%A4%A"].map((name) => get(`${url}/pools/${name}`)),
    );
    const posted = await get(`${url}/pools/scaled`, "POST");

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([404, 404, 404, 404]);
    expect(answers[0]?.body).toEqual({ error: "no scaled long-polling pool named missing" });
    expect(answers[1]?.body).toEqual({ error: "no scaled long-polling pool named fixed" });
    expect(posted).toEqual({ status: 405, body: { error: "use GET" } });
  });

  it("leaves the other operations endpoints as they were", async () => {
    // Prepare
    const url = await serve(new Map());

    // Act
    const health = await get(`${url}/healthz`);
    const ready = await get(`${url}/readyz`);
    const other = await get(`${url}/poolsx`);

    // Assess
    expect(health).toEqual({ status: 200, body: { status: "ok" } });
    expect(ready).toEqual({ status: 200, body: { ready: true } });
    expect(other).toEqual({ status: 404, body: { error: "not found" } });
  });
});
