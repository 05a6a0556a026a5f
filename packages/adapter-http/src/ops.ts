import type { IncomingMessage, ServerResponse } from "node:http";

/** What /metrics serves, and where the adapter counts the requests it turns away. */
export interface MetricsPort {
  record(outcome: string, seconds: number): void;
  text(): Promise<string>;
  readonly contentType: string;
}

/** What the operations endpoints report on. */
export interface OpsOptions {
  /** For /readyz: the API server answers with our credentials. */
  readonly ready: () => Promise<boolean>;
  /** For /metrics; without it /metrics is 404. */
  readonly metrics?: MetricsPort;
  /** More of /metrics, in Prometheus' text format, after the metrics port's (the HTTP server's own counts). */
  readonly moreMetrics?: () => string;
  /**
   * More paths (the controller's `/pools/<name>`): asked first about any path other than
   * /healthz, /readyz and /metrics; resolves true when it answered, false to leave the
   * request to the 404.
   */
  readonly routes?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
}

/** Longest a readiness check may take before /readyz says not ready. */
const READY_TIMEOUT_MS = 5_000;

/** Writes a JSON answer. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

/** The paths {@link handleOps} serves. */
const OPS_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * GET /healthz (the process is up), /readyz (it can do its work) and /metrics: the
 * operations endpoints of every long-running entry point. Answers 404 for any other
 * path (POST /webhook sent to an operations listener included) and 405 for a method
 * other than GET.
 */
export async function handleOps(
  request: IncomingMessage,
  response: ServerResponse,
  options: OpsOptions,
): Promise<void> {
  const path = (request.url ?? "/").split("?")[0] ?? "/";
  if (!OPS_PATHS.has(path)) {
    if (await options.routes?.(request, response)) return;
    return sendJson(response, 404, { error: "not found" });
  }
  if (request.method !== "GET") return sendJson(response, 405, { error: "use GET" });
  if (path === "/healthz") return sendJson(response, 200, { status: "ok" });
  if (path === "/readyz") {
    const ready = await Promise.race([
      options.ready().catch(() => false),
      new Promise<boolean>((resolve) => setTimeout(resolve, READY_TIMEOUT_MS, false).unref()),
    ]);
    return sendJson(response, ready ? 200 : 503, { ready });
  }
  if (path === "/metrics" && options.metrics) {
    const text = (await options.metrics.text()) + (options.moreMetrics?.() ?? "");
    response.writeHead(200, { "content-type": options.metrics.contentType });
    response.end(text);
    return;
  }
  sendJson(response, 404, { error: "not found" });
}
