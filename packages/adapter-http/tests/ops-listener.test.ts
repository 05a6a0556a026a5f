import { createServer, type Server } from "node:net";
import {
  type MetricsPort,
  startWebhookServer,
  type WebhookServer,
} from "@ondemand-eks/adapter-http";
import type { ScheduleOutcome } from "@ondemand-eks/core";
import { afterEach, describe, expect, it } from "vitest";
import { capturedLog, post, TOKEN } from "./helpers.js";

// Issue 13: with `ops`, the webhook's port serves POST /webhook only and the operations
// endpoints have a port of their own, so a NetworkPolicy can open the two to different
// clients (Buildkite, the cluster's monitoring).

const JOB = "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70";
const BODY = JSON.stringify({ event: "job.scheduled", job: { id: JOB } });
const OPS_PATHS = ["/healthz", "/readyz", "/metrics"];

let running: WebhookServer | undefined;
let blockers: Server[] = [];
afterEach(async () => {
  await running?.close(1_000);
  running = undefined;
  for (const blocker of blockers) blocker.close();
  blockers = [];
});

const METRICS: MetricsPort = {
  record: () => {},
  text: async () => "# metrics\n",
  contentType: "text/plain; version=0.0.4",
};

function created(): ScheduleOutcome {
  return {
    outcome: "created",
    job: JOB,
    name: `buildkite-${JOB}`,
    namespace: "buildkite",
    queue: "default",
    podDefinition: "default",
    attempts: 1,
    durationMs: 1,
  };
}

/** The adapter with an operations listener on any free port, and a scripted scheduler. */
async function start(options: { schedule?: () => Promise<ScheduleOutcome>; ready?: boolean } = {}) {
  const scheduled: unknown[] = [];
  running = await startWebhookServer({
    port: 0,
    host: "127.0.0.1",
    ops: { port: 0 },
    token: TOKEN,
    schedule: async (input) => {
      scheduled.push(input);
      return options.schedule ? options.schedule() : created();
    },
    ready: async () => options.ready ?? true,
    metrics: METRICS,
    log: capturedLog().log,
  });
  const opsUrl = running.opsUrl;
  if (!opsUrl) throw new Error("no operations listener");
  return { url: running.url, opsUrl, scheduled };
}

/** A port something else listens on, so listening there fails. */
async function takenPort(): Promise<number> {
  const blocker = createServer();
  blockers.push(blocker);
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  return (blocker.address() as { port: number }).port;
}

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const port = await takenPort();
  const blocker = blockers.pop();
  await new Promise((resolve) => blocker?.close(resolve));
  return port;
}

describe("a separate operations listener", () => {
  it("serves /healthz, /readyz and /metrics on its own port, and 404 for them on the webhook's", async () => {
    // Prepare
    const { url, opsUrl } = await start({ ready: false });
    // Act
    const onWebhookPort = await Promise.all(OPS_PATHS.map((path) => fetch(`${url}${path}`)));
    const healthz = await fetch(`${opsUrl}/healthz`);
    const readyz = await fetch(`${opsUrl}/readyz`);
    const metrics = await fetch(`${opsUrl}/metrics`);
    // Assess
    expect(new URL(opsUrl).port).not.toBe(new URL(url).port);
    expect(onWebhookPort.map((response) => response.status)).toEqual([404, 404, 404]);
    expect(healthz.status).toBe(200);
    expect(readyz.status).toBe(503);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4");
    expect(await metrics.text()).toMatch(/^# metrics\n/);
  });

  it("takes webhooks on the webhook's port only, and counts its refusals on the operations port", async () => {
    // Prepare
    const { url, opsUrl, scheduled } = await start();
    // Act
    const accepted = await post(url, BODY, { "x-buildkite-token": TOKEN });
    const refused = await post(url, BODY, { "x-buildkite-token": "wrong" });
    const onOpsPort = await post(opsUrl, BODY, { "x-buildkite-token": TOKEN });
    // Assess
    expect(accepted.status).toBe(202);
    expect(refused.status).toBe(401);
    expect(onOpsPort.status).toBe(404);
    expect(scheduled).toHaveLength(1);
    const metrics = await (await fetch(`${opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/^ondemand_eks_http_refused_total\{reason="unauthorized"\} 1$/m);
    expect(metrics).toMatch(/^ondemand_eks_http_connections \d+$/m);
  });

  it("keeps answering health and metrics while requests drain, and closes with the server", async () => {
    // Prepare: a request in flight until released.
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { url, opsUrl } = await start({
      schedule: async () => {
        arrived();
        await gate;
        return created();
      },
    });
    const inFlight = post(url, BODY, { "x-buildkite-token": TOKEN });
    await reached;
    const server = running as WebhookServer;
    running = undefined;
    // Act
    const closing = server.close(5_000);
    // Assess
    await expect(fetch(`${url}/webhook`, { method: "POST" })).rejects.toThrow();
    expect((await fetch(`${opsUrl}/healthz`)).status).toBe(200);
    release();
    expect((await inFlight).status).toBe(202);
    await closing;
    await expect(fetch(`${opsUrl}/healthz`)).rejects.toThrow();
  });

  it("fails to start when either port is taken, leaving nothing listening", async () => {
    // Prepare
    const taken = await takenPort();
    const free = await freePort();
    const startOn = (port: number, opsPort: number) =>
      startWebhookServer({
        port,
        host: "127.0.0.1",
        ops: { port: opsPort },
        token: TOKEN,
        schedule: async () => created(),
        ready: async () => true,
        log: capturedLog().log,
      });
    // Act and assess: the operations port taken, then the webhook's.
    await expect(startOn(free, taken)).rejects.toMatchObject({ code: "EADDRINUSE" });
    await expect(startOn(taken, free)).rejects.toMatchObject({ code: "EADDRINUSE" });
    // The operations listener opened for the second start was closed again.
    const again = createServer();
    blockers.push(again);
    await new Promise<void>((resolve, reject) => {
      again.once("error", reject);
      again.listen(free, "127.0.0.1", resolve);
    });
  });
});
