import { createHmac, randomUUID } from "node:crypto";
import {
  authenticateWebhook,
  type MetricsPort,
  startWebhookServer,
  statusOf,
  type WebhookServer,
} from "@ondemand-eks/adapter-http";
import { dispositionOf, type LogFields, type ScheduleOutcome } from "@ondemand-eks/core";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { capturedLog, post, sign, TOKEN } from "./helpers.js";

const JOB = "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70";

let running: WebhookServer | undefined;
afterEach(async () => {
  await running?.close(1_000);
  running = undefined;
});

/** The adapter with a scripted scheduler, recording what it was asked to schedule. */
async function start(
  outcome: ScheduleOutcome | (() => Promise<ScheduleOutcome>) = created(),
  options: {
    requireSignature?: boolean;
    ready?: boolean;
    bodyLimit?: number;
    metrics?: MetricsPort;
  } = {},
) {
  const { log, lines: logged } = capturedLog();
  const scheduled: unknown[] = [];
  const contexts: LogFields[] = [];
  running = await startWebhookServer({
    port: 0,
    host: "127.0.0.1",
    token: TOKEN,
    ...(options.requireSignature ? { requireSignature: true } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    schedule: async (input, context) => {
      scheduled.push(input);
      contexts.push(context);
      return typeof outcome === "function" ? outcome() : outcome;
    },
    ready: async () => options.ready ?? true,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    log,
  });
  return { url: running.url, logged, scheduled, contexts };
}

function created(): Extract<ScheduleOutcome, { outcome: "created" | "exists" }> {
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

/** One outcome of each kind there is. */
const OUTCOMES: Record<ScheduleOutcome["outcome"], ScheduleOutcome> = {
  created: created(),
  exists: { ...created(), outcome: "exists" },
  "dry-run": { ...created(), outcome: "dry-run", result: "created" },
  ignored: { outcome: "ignored", reason: "queue deploy", durationMs: 1 },
  invalid: { outcome: "invalid", reason: "job.id: required", refusedBy: "event", durationMs: 1 },
  failed: { outcome: "failed", reason: "API server unreachable", durationMs: 1 },
};

const BODY = JSON.stringify({ event: "job.scheduled", job: { id: JOB } });

/** A metrics port that keeps what the adapter records. */
function recordingMetrics() {
  const recorded: [string, number][] = [];
  const port: MetricsPort = {
    record: (outcome, seconds) => recorded.push([outcome, seconds]),
    text: async () => "# metrics\n",
    contentType: "text/plain; version=0.0.4",
  };
  return { port, recorded };
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

describe("statusOf", () => {
  // Prepare: what every outcome must answer; a Record, so a new outcome fails to compile here.
  const expected: Record<ScheduleOutcome["outcome"], number> = {
    created: 202,
    exists: 202,
    "dry-run": 202,
    ignored: 200,
    invalid: 400,
    failed: 503,
  };

  it.each(Object.entries(expected))("%s is %i", (name, status) => {
    // Act
    const answered = statusOf(OUTCOMES[name as ScheduleOutcome["outcome"]]);
    // Assess
    expect(answered).toBe(status);
  });

  it("is 2xx exactly for what is acknowledged, 503 for what may succeed later", () => {
    for (const outcome of Object.values(OUTCOMES)) {
      const status = statusOf(outcome);
      expect(status >= 200 && status < 300).toBe(dispositionOf(outcome) === "acknowledge");
      expect(status === 503).toBe(dispositionOf(outcome) === "retry");
    }
  });

  it("a dry run answers 202 whether the Job would have been created or found", () => {
    expect(statusOf({ ...created(), outcome: "dry-run", result: "exists" })).toBe(202);
  });
});

describe("statuses", () => {
  it.each(Object.entries(OUTCOMES))(
    "%s answers its status, with the outcome (and no duration) in the body",
    async (name, result) => {
      const { url } = await start(result);
      const response = await post(url, BODY, { "x-buildkite-token": TOKEN });
      expect(response.status).toBe(statusOf(result));
      const body = await response.json();
      expect(body).toMatchObject({ outcome: name });
      expect(body).not.toHaveProperty("durationMs");
    },
  );

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

  it("/metrics serves the metrics port's text, and is 404 without one", async () => {
    const { url } = await start(created(), { metrics: recordingMetrics().port });
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4");
    const text = await response.text();
    expect(text.startsWith("# metrics\n")).toBe(true);
    expect(text).toMatch(/^ondemand_eks_http_refused_total\{reason="unauthorized"\} 0$/m);
    await running?.close(1_000);
    const without = await start();
    expect((await fetch(`${without.url}/metrics`)).status).toBe(404);
  });

  it("counts the requests it turns away; scheduled ones are the scheduler's to count", async () => {
    // Prepare
    const { port, recorded } = recordingMetrics();
    const { url } = await start(created(), { metrics: port, bodyLimit: 1_024 });
    // Act
    await post(url, BODY, { "x-buildkite-token": TOKEN });
    await post(url, BODY, {});
    await post(url, "x".repeat(2_000), { "x-buildkite-token": TOKEN });
    await post(url, "{not json", { "x-buildkite-token": TOKEN });
    await post(url, "{}", { "x-buildkite-token": TOKEN, "x-buildkite-event": "ping" });
    // Assess: counted once each, so a scheduled event is never counted twice.
    expect(recorded.map(([outcome]) => outcome)).toEqual([
      "unauthorized",
      "too-large",
      "invalid",
      "ping",
    ]);
    expect(recorded.every(([, seconds]) => seconds >= 0)).toBe(true);
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

describe("request ids", () => {
  it("echoes a caller's plain request id, and hands it to the scheduler with the auth method", async () => {
    // Prepare
    const { url, contexts } = await start();
    // Act
    const response = await post(url, BODY, {
      "x-buildkite-token": TOKEN,
      "x-request-id": "delivery-42.a_b",
    });
    // Assess
    expect(response.status).toBe(202);
    expect(response.headers.get("x-request-id")).toBe("delivery-42.a_b");
    expect(contexts).toEqual([{ requestId: "delivery-42.a_b", auth: "token" }]);
  });

  it.each([
    ["none", undefined],
    ["one with spaces", "two words"],
    ["one with markup", "<script>"],
    ["one too long", "x".repeat(129)],
  ])("gives a request with %s a new UUID, and the scheduler the same", async (_, given) => {
    const { url, contexts } = await start();
    const response = await post(url, BODY, {
      "x-buildkite-signature": sign(BODY),
      ...(given === undefined ? {} : { "x-request-id": given }),
    });
    const id = response.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(contexts).toEqual([{ requestId: id, auth: "signature" }]);
  });

  it("gives each request its own id", async () => {
    const { url } = await start();
    const ids = new Set<string | null>();
    for (let i = 0; i < 3; i++) {
      const response = await post(url, BODY, { "x-buildkite-token": TOKEN });
      ids.add(response.headers.get("x-request-id"));
    }
    expect(ids.size).toBe(3);
  });

  it("answers every refusal and the operations endpoints with an id too", async () => {
    const { url } = await start();
    const given = randomUUID();
    const refused = await post(url, BODY, { "x-request-id": given });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("x-request-id")).toBe(given);
    for (const path of ["/healthz", "/readyz", "/metrics", "/nowhere"]) {
      const response = await fetch(`${url}${path}`, { headers: { "x-request-id": given } });
      expect(response.headers.get("x-request-id")).toBe(given);
    }
    const wrongMethod = await fetch(`${url}/webhook`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("x-request-id")).toBeTruthy();
  });

  it("logs a refused request with its id and reason, never the token", async () => {
    const { url, logged } = await start();
    await post(url, BODY, { "x-buildkite-token": "guess", "x-request-id": "r-1" });
    expect(logged).toEqual([
      expect.objectContaining({
        level: "warn",
        msg: "webhook",
        requestId: "r-1",
        outcome: "unauthorized",
        status: 401,
        reason: "token does not match",
      }),
    ]);
    expect(JSON.stringify(logged)).not.toContain("guess");
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
