import { createHmac } from "node:crypto";
import {
  authenticateWebhook,
  createMetrics,
  startWebhookServer,
  type WebhookServer,
} from "@ondemand-eks/adapter-http";
import type { ScheduleOutcome } from "@ondemand-eks/core";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";

const TOKEN = "webhook-secret-token";
const JOB = "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70";

function sign(body: string, timestamp = Math.floor(Date.now() / 1000), token = TOKEN): string {
  const signature = createHmac("sha256", token).update(`${timestamp}.${body}`).digest("hex");
  return `timestamp=${timestamp},signature=${signature}`;
}

let running: WebhookServer | undefined;
afterEach(async () => {
  await running?.close(1_000);
  running = undefined;
});

async function start(
  outcome: ScheduleOutcome | (() => Promise<ScheduleOutcome>) = created(),
  options: { requireSignature?: boolean; ready?: boolean; bodyLimit?: number } = {},
) {
  const logged: Record<string, unknown>[] = [];
  const scheduled: unknown[] = [];
  running = await startWebhookServer({
    port: 0,
    host: "127.0.0.1",
    token: TOKEN,
    ...(options.requireSignature ? { requireSignature: true } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    schedule: async (input) => {
      scheduled.push(input);
      return typeof outcome === "function" ? outcome() : outcome;
    },
    ready: async () => options.ready ?? true,
    metrics: createMetrics(),
    log: (entry) => logged.push(entry),
  });
  return { url: running.url, logged, scheduled };
}

function created(): ScheduleOutcome {
  return {
    outcome: "created",
    job: JOB,
    name: `buildkite-${JOB}`,
    namespace: "buildkite",
    queue: "default",
    podDefinition: "default",
    attempts: 1,
    durationMs: 3,
  };
}

const BODY = JSON.stringify({ event: "job.scheduled", job: { id: JOB } });

function post(url: string, body: string, headers: Record<string, string>) {
  return fetch(`${url}/webhook`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-buildkite-event": "job.scheduled",
      ...headers,
    },
  });
}

describe("authentication", () => {
  it("accepts the right token and a valid signature", async () => {
    const { url, scheduled } = await start();
    expect((await post(url, BODY, { "x-buildkite-token": TOKEN })).status).toBe(202);
    expect((await post(url, BODY, { "x-buildkite-signature": sign(BODY) })).status).toBe(202);
    expect(scheduled).toHaveLength(2);
  });

  it.each([
    ["no credentials", {}],
    ["a wrong token", { "x-buildkite-token": "guess" }],
    ["a signature by another key", { "x-buildkite-signature": sign(BODY, undefined, "other") }],
    ["a signature of another body", { "x-buildkite-signature": sign(`${BODY} `) }],
    [
      "a signature too old",
      { "x-buildkite-signature": sign(BODY, Math.floor(Date.now() / 1000) - 3600) },
    ],
    [
      "a signature from the future",
      { "x-buildkite-signature": sign(BODY, Math.floor(Date.now() / 1000) + 3600) },
    ],
    ["a malformed signature", { "x-buildkite-signature": "timestamp=1,signature=zz" }],
  ])("refuses %s with 401 and no detail, scheduling nothing", async (_, headers) => {
    const { url, scheduled, logged } = await start();
    const response = await post(url, BODY, headers as Record<string, string>);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "unauthorized" });
    expect(scheduled).toHaveLength(0);
    expect(JSON.stringify(logged)).not.toContain(TOKEN);
  });

  it("refuses a plain token when signatures are required", async () => {
    const { url } = await start(created(), { requireSignature: true });
    expect((await post(url, BODY, { "x-buildkite-token": TOKEN })).status).toBe(401);
    expect((await post(url, BODY, { "x-buildkite-signature": sign(BODY) })).status).toBe(202);
  });

  it("verifies the signature over the raw bytes, for any body, and any change breaks it", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.nat(511), (bytes, at) => {
        const body = Buffer.from(bytes);
        const now = 1_800_000_000_000;
        const timestamp = now / 1000;
        const header = `timestamp=${timestamp},signature=${createHmac("sha256", TOKEN)
          .update(`${timestamp}.`)
          .update(body)
          .digest("hex")}`;
        const options = { token: TOKEN, now: () => now };
        expect(authenticateWebhook({ "x-buildkite-signature": header }, body, options).ok).toBe(
          true,
        );
        const changed = Buffer.from(body);
        const index = at % changed.length;
        changed[index] = (changed[index] ?? 0) ^ 0x01;
        expect(authenticateWebhook({ "x-buildkite-signature": header }, changed, options).ok).toBe(
          false,
        );
      }),
    );
  });
});

describe("statuses", () => {
  const outcome = (o: Partial<ScheduleOutcome> & { outcome: string }) =>
    ({ durationMs: 1, ...o }) as ScheduleOutcome;
  it.each([
    ["created", created(), 202],
    ["exists", { ...created(), outcome: "exists" }, 202],
    ["ignored", outcome({ outcome: "ignored", reason: "queue deploy" }), 200],
    ["invalid", outcome({ outcome: "invalid", reason: "job.id: required" }), 400],
    ["failed", outcome({ outcome: "failed", reason: "API server unreachable" }), 503],
  ])("%s answers %i, with the outcome in the body", async (name, result, status) => {
    const { url } = await start(result as ScheduleOutcome);
    const response = await post(url, BODY, { "x-buildkite-token": TOKEN });
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ outcome: name });
  });

  it("answers a ping 200 without scheduling", async () => {
    const { url, scheduled } = await start();
    const response = await post(url, "{}", {
      "x-buildkite-token": TOKEN,
      "x-buildkite-event": "ping",
    });
    expect(response.status).toBe(200);
    expect(scheduled).toHaveLength(0);
  });

  it("answers 400 to a body that is not JSON", async () => {
    const { url } = await start();
    const response = await post(url, "{not json", { "x-buildkite-token": TOKEN });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ outcome: "invalid", reason: "body is not JSON" });
  });

  it("answers 413 over the body limit, before authenticating or parsing", async () => {
    const { url, scheduled } = await start(created(), { bodyLimit: 100 });
    const response = await post(url, "x".repeat(101), { "x-buildkite-token": TOKEN });
    expect(response.status).toBe(413);
    expect(scheduled).toHaveLength(0);
  });
});

describe("health, readiness, metrics, shutdown", () => {
  it("/healthz is up; /readyz follows readiness", async () => {
    const { url } = await start(created(), { ready: false });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
  });

  it("/metrics counts events by outcome", async () => {
    const { url } = await start();
    await post(url, BODY, { "x-buildkite-token": TOKEN });
    await post(url, BODY, {});
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/ondemand_eks_events_total\{outcome="created"\} 1/);
    expect(text).toMatch(/ondemand_eks_events_total\{outcome="unauthorized"\} 1/);
    expect(text).toContain("ondemand_eks_schedule_duration_seconds_bucket");
  });

  it("finishes a request in flight when closed, and takes no new ones", async () => {
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { url } = await start(async () => {
      arrived();
      await gate;
      return created();
    });
    const inFlight = post(url, BODY, { "x-buildkite-token": TOKEN });
    await reached;
    const server = running!;
    running = undefined;
    const closing = server.close(5_000);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    release();
    expect((await inFlight).status).toBe(202);
    await closing;
  });
});

describe("the signature window's edges", () => {
  const body = Buffer.from(BODY);
  const now = 1_800_000_000_000;
  const at = (offsetSeconds: number) => {
    const timestamp = now / 1000 + offsetSeconds;
    const signature = createHmac("sha256", TOKEN)
      .update(`${timestamp}.`)
      .update(body)
      .digest("hex");
    return authenticateWebhook(
      { "x-buildkite-signature": `timestamp=${timestamp},signature=${signature}` },
      body,
      { token: TOKEN, now: () => now },
    ).ok;
  };
  it("accepts up to 5 minutes either way, and not a second more", () => {
    expect([at(-300), at(300), at(0)]).toEqual([true, true, true]);
    expect([at(-301), at(301)]).toEqual([false, false]);
  });
});
