import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  dispositionOf,
  type LogFields,
  type Logger,
  type ScheduleOutcome,
} from "@ondemand-eks/core";
import { handleOps, type OpsOptions, sendJson } from "./ops.js";
import { authenticateWebhook, type WebhookAuthOptions } from "./webhook-auth.js";

export interface WebhookHandlerOptions extends WebhookAuthOptions, OpsOptions {
  /**
   * The scheduling path (a runtime scheduler's `schedule`): it logs the outcome with
   * `context`, records it in the metrics, and never throws.
   */
  readonly schedule: (input: unknown, context: LogFields) => Promise<ScheduleOutcome>;
  /** Largest body accepted, in bytes. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** For requests turned away before scheduling; never given secrets or bodies. */
  readonly log: Logger;
}

/**
 * The HTTP status of an outcome, decided from its disposition: Buildkite's webhook log
 * shows a failure as non-2xx. A Job made (or dry-run) is 202, anything else acknowledged
 * is 200; what can never succeed is 400; what may succeed later is 503.
 */
export function statusOf(outcome: ScheduleOutcome): number {
  switch (dispositionOf(outcome)) {
    case "acknowledge":
      return outcome.outcome === "ignored" ? 200 : 202;
    case "dead-letter":
      return 400;
    case "retry":
      return 503;
  }
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

/** The caller's request id when it is a plain token, else a new one: it ties a log line to a delivery. */
function requestIdOf(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * The webhook adapter's routes: POST /webhook (Buildkite webhooks), and the operations
 * endpoints GET /healthz, /readyz, /metrics. Every answer carries `x-request-id`, the
 * id the log line of its request has.
 */
export function createWebhookHandler(options: WebhookHandlerOptions) {
  const limit = options.bodyLimit ?? 1024 * 1024;
  const now = options.now ?? Date.now;

  async function webhook(
    request: IncomingMessage,
    response: ServerResponse,
    requestId: string,
  ): Promise<void> {
    const started = now();
    // A request turned away before scheduling: counted and logged here.
    const refuse = (outcome: string, status: number, body: object, fields: LogFields = {}) => {
      options.metrics?.record(outcome, (now() - started) / 1000);
      const level = outcome === "ping" ? "info" : "warn";
      options.log[level]("webhook", { requestId, outcome, status, ...fields });
      sendJson(response, status, body);
    };
    let body: Buffer;
    try {
      body = await readBody(request, limit);
    } catch (error) {
      if (error instanceof TooLarge) {
        response.setHeader("connection", "close");
        refuse("too-large", 413, { error: `body larger than ${limit} bytes` });
        return;
      }
      throw error;
    }
    const auth = authenticateWebhook(request.headers, body, options);
    if (!auth.ok) {
      refuse("unauthorized", 401, { error: "unauthorized" }, { reason: auth.reason });
      return;
    }
    if (request.headers["x-buildkite-event"] === "ping") {
      refuse("ping", 200, { outcome: "ping" });
      return;
    }
    let input: unknown;
    try {
      input = JSON.parse(body.toString("utf8"));
    } catch {
      refuse("invalid", 400, { outcome: "invalid", reason: "body is not JSON" });
      return;
    }
    const outcome = await options.schedule(input, { requestId, auth: auth.method });
    const { durationMs: _, ...reply } = outcome;
    sendJson(response, statusOf(outcome), reply);
  }

  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? "/").split("?")[0];
    const requestId = requestIdOf(request);
    response.setHeader("x-request-id", requestId);
    try {
      if (path !== "/webhook") return await handleOps(request, response, options);
      if (request.method !== "POST") return sendJson(response, 405, { error: "use POST" });
      return await webhook(request, response, requestId);
    } catch (error) {
      // Never crash on a request: log it and answer 500.
      options.log.error("request failed", { requestId, path, error: (error as Error).message });
      if (!response.headersSent) sendJson(response, 500, { error: "internal error" });
      else response.destroy();
    }
  };
}
