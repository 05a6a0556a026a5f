import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { createWebhookHandler, type WebhookHandlerOptions, webhookOpsOptions } from "./handler.js";
import { RETRY_AFTER_SECONDS, resolveLimits, TIMEOUT_CHECK_INTERVAL_MS } from "./limits.js";
import { DEFAULT_HOST, listen, urlOf } from "./listen.js";
import { type OpsServer, startOpsServer } from "./ops-server.js";
import { Traffic, type TrafficStats } from "./traffic.js";

/** Where the webhook server listens, and where its operations endpoints are served. */
export interface WebhookServerOptions extends Omit<WebhookHandlerOptions, "serveOps"> {
  /** The webhook's port (0: any free one). */
  readonly port: number;
  /**
   * The address to listen on; by default `::`, every address, IPv6 and IPv4 (every IPv4
   * address where the machine has no IPv6: see {@link listen}).
   */
  readonly host?: string;
  /**
   * A separate listener for GET /healthz, /readyz and /metrics. With it, the webhook's
   * port answers POST /webhook only (404 for the operations paths), so a NetworkPolicy
   * or a firewall can open the two to different clients. Without it, both share `port`.
   * Its `host` defaults to the webhook's.
   */
  readonly ops?: { readonly port: number; readonly host?: string };
}

export interface WebhookServer {
  /** `http://host:port` it listens on. */
  url: string;
  /** `http://host:port` of the operations listener, when `ops` was given. */
  opsUrl?: string;
  server: Server;
  /** What it holds now and what it has turned away (also on /metrics). */
  stats(): TrafficStats;
  /**
   * Stops accepting, lets requests in flight finish (up to `graceMs`), then closes; the
   * operations listener last, so health and metrics answer while requests drain.
   */
  close(graceMs?: number): Promise<void>;
}

/** Written straight to a connection over the bound, before anything of it is read. */
const FULL = [
  "HTTP/1.1 503 Service Unavailable",
  `Retry-After: ${RETRY_AFTER_SECONDS}`,
  "Connection: close",
  "Content-Length: 0",
  "",
  "",
].join("\r\n");

/** The answer to a connection cut off at a deadline, or to a request Node cannot parse. */
function clientErrorAnswer(code: string | undefined): string {
  const status =
    code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? "408 Request Timeout"
      : code === "HPE_HEADER_OVERFLOW"
        ? "431 Request Header Fields Too Large"
        : "400 Bad Request";
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}

/** Answers a connection with `answer` and closes it, reading nothing more of it. */
function answerAndClose(socket: Socket, answer: string): void {
  socket.pause();
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(answer);
  socket.once("finish", () => socket.destroy());
  // A client that reads nothing cannot keep it open: the answer is small, the wait short.
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/**
 * Starts the webhook adapter on `port` (0: any free one), within its bounds (see
 * `limits.ts`): connections over `maxConnections` are answered 503 unread; a client
 * has `headersTimeoutMs` from connecting to the end of its headers and
 * `requestTimeoutMs` for a whole request, each held to within
 * {@link TIMEOUT_CHECK_INTERVAL_MS}, and is then answered 408 and cut off. With `ops`,
 * /healthz, /readyz and /metrics move to a listener of their own.
 *
 * @example
 * const server = await startWebhookServer({
 *   port: 8080,
 *   ops: { port: 9090 },
 *   token,
 *   schedule,
 *   ready,
 *   log,
 * });
 * await server.close();
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const limits = resolveLimits(options);
  const traffic =
    options.traffic ?? new Traffic(limits.maxBodiesInFlight, limits.slowBodyMs, limits.idleBodyMs);
  const handler = createWebhookHandler({ ...options, traffic, serveOps: !options.ops });
  let inFlight = 0;
  const idle: (() => void)[] = [];
  const firstRequest = new WeakMap<Socket, NodeJS.Timeout>();
  /** Connections answered 408 or 400 and closing, counted once. */
  const cutOff = new WeakSet<Socket>();
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    clearTimeout(firstRequest.get(request.socket));
    inFlight += 1;
    response.on("close", () => {
      inFlight -= 1;
      if (inFlight === 0) for (const wake of idle.splice(0)) wake();
    });
    void handler(request, response);
  };
  const server = createServer(
    {
      // Node checks both deadlines every connectionsCheckingInterval (30 s by default).
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      keepAliveTimeout: 5_000,
    },
    onRequest,
  );
  // Without this, Node answers `Expect: 100-continue` itself, inviting the body before
  // the handler has looked at the headers; the handler sends it once it will read.
  server.on("checkContinue", onRequest);

  server.on("connection", (socket: Socket) => {
    const disconnected = traffic.connected();
    socket.once("close", () => {
      disconnected();
      clearTimeout(firstRequest.get(socket));
    });
    if (traffic.connections > limits.maxConnections) {
      // Read nothing of it: no parser, no buffers, one write and a close.
      traffic.refused("connections");
      answerAndClose(socket, FULL);
      return;
    }
    // Node times headers from their first byte; a client that sends nothing would hold
    // its connection for good. Count from the connection instead.
    const timer = setTimeout(() => {
      if (cutOff.has(socket) || socket.destroyed) return;
      cutOff.add(socket);
      traffic.refused("timeout");
      answerAndClose(socket, clientErrorAnswer("ERR_HTTP_REQUEST_TIMEOUT"));
    }, limits.headersTimeoutMs);
    timer.unref();
    firstRequest.set(socket, timer);
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    // Already answered and closing: Node's own deadline may come a moment after ours.
    // A client that reset its connection was not turned away: nothing to count or say.
    if (cutOff.has(socket) || error.code === "ECONNRESET") return socket.destroy();
    cutOff.add(socket);
    traffic.refused(error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "timeout" : "bad-request");
    const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    // `_httpMessage` is how Node's own docs find the response of a failing connection.
    if (response?.headersSent) socket.destroy();
    else answerAndClose(socket, clientErrorAnswer(error.code));
  });

  // The operations listener first: if the webhook's port is taken, it is closed again.
  let ops: OpsServer | undefined;
  if (options.ops) {
    ops = await startOpsServer({
      ...webhookOpsOptions(options, traffic),
      port: options.ops.port,
      host: options.ops.host ?? options.host ?? DEFAULT_HOST,
      log: options.log,
    });
  }
  try {
    await listen(server, { port: options.port, host: options.host, log: options.log });
  } catch (error) {
    await ops?.close();
    throw error;
  }
  return {
    url: urlOf(server),
    ...(ops ? { opsUrl: ops.url } : {}),
    server,
    stats: () => traffic.stats(),
    async close(graceMs = 25_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => idle.push(resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
      await ops?.close();
    },
  };
}
