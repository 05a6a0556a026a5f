import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  dispositionOf,
  type LogFields,
  type Logger,
  type ScheduleOutcome,
} from "@ondemand-eks/core";
import {
  type HttpLimits,
  RETRY_AFTER_SECONDS,
  resolveLimits,
  webhookTokenProblem,
} from "./limits.js";
import { handleOps, type OpsOptions, sendJson } from "./ops.js";
import { BodyAborted, BodyTooLarge, readBody } from "./read-body.js";
import { Traffic } from "./traffic.js";
import { checkWebhookHeaders, type WebhookAuthOptions } from "./webhook-auth.js";

export interface WebhookHandlerOptions extends WebhookAuthOptions, OpsOptions, HttpLimits {
  /**
   * The scheduling path (a runtime scheduler's `schedule`): it logs the outcome with
   * `context`, records it in the metrics, and never throws.
   */
  readonly schedule: (input: unknown, context: LogFields) => Promise<ScheduleOutcome>;
  /** Where bodies in flight and refusals are counted; a server passes its own. */
  readonly traffic?: Traffic;
  /** For requests turned away before scheduling; never given secrets or bodies. */
  readonly log: Logger;
  /**
   * Whether GET /healthz, /readyz and /metrics are answered here (the default). False
   * when a separate operations listener serves them (`startWebhookServer`'s `ops`): then
   * they are 404 here, and this handler answers POST /webhook only.
   */
  readonly serveOps?: boolean;
}

/**
 * What the operations endpoints of a webhook server report: the caller's readiness and
 * metrics, and the server's own counts (`traffic`) after them on /metrics.
 */
export function webhookOpsOptions(options: OpsOptions, traffic: Traffic): OpsOptions {
  return {
    ready: options.ready,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    moreMetrics: () => (options.moreMetrics?.() ?? "") + traffic.metricsText(),
  };
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

/** The caller's request id when it is a plain token, else a new one: it ties a log line to a delivery. */
function requestIdOf(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * The webhook adapter's routes: POST /webhook (Buildkite webhooks), and the operations
 * endpoints GET /healthz, /readyz, /metrics unless `serveOps` is false (another listener
 * serves them). Every answer carries `x-request-id`, the id the log line of its request
 * has.
 *
 * A webhook is judged in order of cost: its authentication headers (a missing,
 * malformed, stale or wrong one is refused before any of the body is read), its declared
 * length, a free body slot (503 when all are taken); only then is its body read, up to
 * the limit, and a signature checked over it. A request refused before its body is read
 * is answered with `Connection: close`, so the rest of its body is never read.
 *
 * @example
 * createServer(createWebhookHandler({ token, schedule, ready, log }));
 */
export function createWebhookHandler(options: WebhookHandlerOptions) {
  const weak = webhookTokenProblem(options.token);
  if (weak) throw new RangeError(`the webhook token ${weak}`);
  const limits = resolveLimits(options);
  const limit = limits.bodyLimit;
  const traffic =
    options.traffic ?? new Traffic(limits.maxBodiesInFlight, limits.slowBodyMs, limits.idleBodyMs);
  const now = options.now ?? Date.now;
  const ops = webhookOpsOptions(options, traffic);
  const serveOps = options.serveOps ?? true;

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
    // Turned away before its body is read: closing the connection leaves the body unread.
    const refuseUnread = (outcome: string, status: number, body: object, fields?: LogFields) => {
      response.setHeader("connection", "close");
      refuse(outcome, status, body, fields);
    };
    const checked = checkWebhookHeaders(request.headers, options);
    if (!checked.ok) {
      traffic.refused("unauthorized");
      refuseUnread("unauthorized", 401, { error: "unauthorized" }, { reason: checked.reason });
      return;
    }
    const tooLarge = () => {
      traffic.refused("too-large");
      refuseUnread("too-large", 413, { error: `body larger than ${limit} bytes` });
    };
    const declared = Number(request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) return tooLarge();
    // A body that stalls while others wait can be cut off to make room (limits.ts).
    const slot = traffic.takeBodySlot(() => request.socket.destroy());
    if (!slot) {
      traffic.refused("bodies-in-flight");
      response.setHeader("retry-after", String(RETRY_AFTER_SECONDS));
      refuseUnread("busy", 503, { error: "too many requests in flight; retry later" });
      return;
    }
    // The slot, and the bytes counted in it, are held until the answer is sent.
    response.once("close", () => slot.release());
    if (request.headers.expect?.toLowerCase() === "100-continue") response.writeContinue();
    let body: Buffer;
    try {
      body = await readBody(request, limit, slot);
      slot.bodyRead();
    } catch (error) {
      if (error instanceof BodyTooLarge) return tooLarge();
      // Gone, or cut off at its deadline (counted where it was cut): no one to answer.
      if (error instanceof BodyAborted) return;
      throw error;
    }
    const auth = checked.verify(body);
    if (!auth.ok) {
      traffic.refused("unauthorized");
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
    // Whatever body a request that is not a webhook brings is never read: close after answering.
    if (path !== "/webhook" || request.method !== "POST") {
      const length = request.headers["content-length"];
      if (request.headers["transfer-encoding"] || (length && length !== "0")) {
        response.setHeader("connection", "close");
      }
    }
    try {
      if (path !== "/webhook") {
        if (!serveOps) return sendJson(response, 404, { error: "not found" });
        return await handleOps(request, response, ops);
      }
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
