import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhookHandler, type WebhookHandlerOptions } from "./handler.js";

export interface WebhookServer {
  /** `http://host:port` it listens on. */
  url: string;
  server: Server;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
}

/** Starts the webhook adapter on `port` (0: any free one). */
export async function startWebhookServer(
  options: WebhookHandlerOptions & { port: number; host?: string },
): Promise<WebhookServer> {
  const handler = createWebhookHandler(options);
  let inFlight = 0;
  const idle: (() => void)[] = [];
  const server = createServer((request, response) => {
    inFlight += 1;
    response.on("close", () => {
      inFlight -= 1;
      if (inFlight === 0) for (const wake of idle.splice(0)) wake();
    });
    void handler(request, response);
  });
  // Deadlines for slow or stuck clients.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host}:${port}`,
    server,
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
    },
  };
}
