import type { IncomingMessage, ServerResponse } from "node:http";
import type { ScheduleOutcome } from "@ondemand-eks/core";
import type { AdapterMetrics } from "./metrics.js";
import { authenticateWebhook, type WebhookAuthOptions } from "./webhook-auth.js";

export interface WebhookHandlerOptions extends WebhookAuthOptions {
  /** The core's schedule() with its dependencies bound. */
  schedule: (input: unknown) => Promise<ScheduleOutcome>;
  /** For /readyz: the pod library is loaded and the API server answers. */
  ready: () => Promise<boolean>;
  metrics: AdapterMetrics;
  /** Largest body accepted, in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /** One structured line per request; never given secrets or bodies. */
  log: (entry: Record<string, unknown>) => void;
}

/** HTTP status for each outcome: Buildkite's webhook log shows failures as non-2xx. */
const STATUS: Record<ScheduleOutcome["outcome"], number> = {
  created: 202,
  exists: 202,
  ignored: 200,
  invalid: 400,
  failed: 503,
};

function send(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

class TooLarge extends Error {}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new TooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new TooLarge());
        request.pause();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/**
 * The webhook adapter's routes: POST /webhook (Buildkite webhooks), GET /healthz
 * (process up), GET /readyz (library loaded, API server reachable), GET /metrics.
 */
export function createWebhookHandler(options: WebhookHandlerOptions) {
  const limit = options.bodyLimit ?? 1024 * 1024;
  const now = options.now ?? Date.now;

  async function webhook(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = now();
    const finish = (outcome: string, status: number, body: Record<string, unknown>, extra = {}) => {
      options.metrics.events.inc({ outcome });
      options.metrics.duration.observe({ outcome }, (now() - started) / 1000);
      options.log({ msg: "webhook", outcome, status, durationMs: now() - started, ...extra });
      send(response, status, body);
    };
    let body: Buffer;
    try {
      body = await readBody(request, limit);
    } catch (error) {
      if (error instanceof TooLarge) {
        response.setHeader("connection", "close");
        finish("too-large", 413, { error: `body larger than ${limit} bytes` });
        return;
      }
      throw error;
    }
    const auth = authenticateWebhook(request.headers, body, options);
    if (!auth.ok) {
      finish("unauthorized", 401, { error: "unauthorized" }, { reason: auth.reason });
      return;
    }
    const event = request.headers["x-buildkite-event"];
    if (event === "ping") {
      finish("ping", 200, { outcome: "ping" });
      return;
    }
    let input: unknown;
    try {
      input = JSON.parse(body.toString("utf8"));
    } catch {
      finish("invalid", 400, { outcome: "invalid", reason: "body is not JSON" });
      return;
    }
    const outcome = await options.schedule(input);
    if ("attempts" in outcome && outcome.attempts && outcome.attempts > 1) {
      options.metrics.retries.inc(outcome.attempts - 1);
    }
    const { durationMs: _, ...reply } = outcome;
    finish(outcome.outcome, STATUS[outcome.outcome], reply, {
      job: outcome.job,
      ...("reason" in outcome ? { reason: outcome.reason } : {}),
      auth: auth.method,
    });
  }

  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? "/").split("?")[0];
    try {
      if (path === "/webhook") {
        if (request.method !== "POST") return send(response, 405, { error: "use POST" });
        return await webhook(request, response);
      }
      if (request.method !== "GET") return send(response, 405, { error: "use GET" });
      if (path === "/healthz") return send(response, 200, { status: "ok" });
      if (path === "/readyz") {
        const ready = await Promise.race([
          options.ready().catch(() => false),
          new Promise<boolean>((resolve) => setTimeout(resolve, 5_000, false).unref()),
        ]);
        return send(response, ready ? 200 : 503, { ready });
      }
      if (path === "/metrics") {
        const text = await options.metrics.registry.metrics();
        response.writeHead(200, { "content-type": options.metrics.registry.contentType });
        response.end(text);
        return;
      }
      send(response, 404, { error: "not found" });
    } catch (error) {
      // Never crash on a request: log it and answer 500.
      options.log({ msg: "error", error: (error as Error).message, path });
      if (!response.headersSent) send(response, 500, { error: "internal error" });
      else response.destroy();
    }
  };
}
