import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type BuildkiteEmulator, startBuildkiteEmulator } from "@ondemand-eks/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueueMetricsClient, QueueMetricsError } from "../src/index.js";

const CLUSTER_TOKEN = "emulated-cluster-token-m3tr1cs";

/** The error `promise` rejects with, which must be a QueueMetricsError. */
async function failure(promise: Promise<unknown>): Promise<QueueMetricsError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(QueueMetricsError);
  return error as QueueMetricsError;
}

describe("QueueMetricsClient against the Buildkite emulator", () => {
  let buildkite: BuildkiteEmulator;
  let silent: Server;

  beforeAll(async () => {
    buildkite = await startBuildkiteEmulator({
      agentToken: "emulated-agent-token",
      clusterToken: CLUSTER_TOKEN,
    });
    // Accepts requests and never answers them.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    await buildkite?.close();
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  /** The emulator's metrics requests so far. */
  const metricsRequests = () =>
    buildkite.requests().filter((request) => request.event.startsWith("GET /v3/metrics"));

  it("reads each queue's scheduled jobs with the cluster token, at most once per 10 s", async () => {
    // Prepare: three jobs on one queue, one on another; a clock the test moves.
    for (let i = 0; i < 3; i++) buildkite.createJob({ command: "true", queue: "metrics-a" });
    buildkite.createJob({ command: "true", queue: "metrics-b" });
    let now = 1_000_000;
    const results: string[] = [];
    const client = new QueueMetricsClient({
      endpoint: buildkite.url,
      token: CLUSTER_TOKEN,
      now: () => now,
      onRead: (result) => void results.push(result),
    });
    const before = metricsRequests().length;

    // Act
    const first = await client.read();
    now += 9_999;
    const cached = await client.read();
    now += 1;
    const fresh = await client.read();

    // Assess
    expect(first.queues.get("metrics-a")).toEqual({
      scheduled: 3,
      running: 0,
      waiting: 0,
      idleAgents: 0,
      busyAgents: 0,
      totalAgents: 0,
      at: 1_000_000,
    });
    expect(first.queues.get("metrics-b")?.scheduled).toBe(1);
    expect(cached).toBe(first);
    expect(fresh.at).toBe(1_010_000);
    expect(metricsRequests().length - before).toBe(2);
    expect(results).toEqual(["ok", "ok"]);
  });

  it("fails unavailable on a 503, keeps that answer for 10 s, and never shows the token", async () => {
    // Prepare
    let now = 2_000_000;
    const results: string[] = [];
    const client = new QueueMetricsClient({
      endpoint: buildkite.url,
      token: CLUSTER_TOKEN,
      now: () => now,
      onRead: (result) => void results.push(result),
    });
    buildkite.failMetrics(1, 503);
    const before = metricsRequests().length;

    // Act
    const first = await failure(client.read());
    now += 5_000;
    const again = await failure(client.read());
    now += 5_000;
    const recovered = await client.read();

    // Assess
    expect(first).toMatchObject({ kind: "unavailable", status: 503 });
    expect(first.message).toContain("503");
    expect(again).toBe(first);
    expect(recovered.at).toBe(2_010_000);
    expect(metricsRequests().length - before).toBe(2);
    expect(results).toEqual(["unavailable", "ok"]);
    expect(JSON.stringify({ message: first.message, cause: String(first.cause) })).not.toContain(
      CLUSTER_TOKEN,
    );
  });

  it("fails unauthorized on a refused token, without the token in the message", async () => {
    const wrong = "a-wrong-cluster-token-0123456789";
    const client = new QueueMetricsClient({ endpoint: buildkite.url, token: wrong });
    const error = await failure(client.read());
    expect(error).toMatchObject({ kind: "unauthorized", status: 401 });
    expect(error.message).not.toContain(wrong);
  });

  it("fails unavailable at its deadline when nothing answers, and when nothing listens", async () => {
    // Prepare
    const { port } = silent.address() as AddressInfo;
    const hanging = new QueueMetricsClient({
      endpoint: `http://127.0.0.1:${port}/v3`,
      token: CLUSTER_TOKEN,
      timeoutMs: 200,
    });
    const stopped = await startBuildkiteEmulator({ agentToken: CLUSTER_TOKEN });
    await stopped.close();
    const refused = new QueueMetricsClient({ endpoint: stopped.url, token: CLUSTER_TOKEN });

    // Act
    const started = Date.now();
    const late = await failure(hanging.read());
    const elapsed = Date.now() - started;
    const unreachable = await failure(refused.read());

    // Assess
    expect(late.kind).toBe("unavailable");
    expect(late.message).toContain("no answer within 200 ms");
    expect(elapsed).toBeLessThan(5_000);
    expect(unreachable.kind).toBe("unavailable");
    expect(unreachable.message).toContain("could not be reached");
    for (const error of [late, unreachable]) expect(error.message).not.toContain(CLUSTER_TOKEN);
  });
});
