import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AdapterMetrics } from "./metrics.js";

/**
 * /healthz, /readyz and /metrics alone, for long-running adapters that take their
 * events from elsewhere (the SQS consumer).
 */
export async function startOpsServer(options: {
  port: number;
  host?: string;
  ready: () => Promise<boolean>;
  metrics: AdapterMetrics;
}): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(`${JSON.stringify(body)}\n`);
    };
    if (request.method !== "GET") return json(405, { error: "use GET" });
    if (path === "/healthz") return json(200, { status: "ok" });
    if (path === "/readyz") {
      void Promise.race([
        options.ready().catch(() => false),
        new Promise<boolean>((resolve) => setTimeout(resolve, 5_000, false).unref()),
      ]).then((ready) => json(ready ? 200 : 503, { ready }));
      return;
    }
    if (path === "/metrics") {
      void options.metrics.registry.metrics().then(
        (text) => {
          response.writeHead(200, { "content-type": options.metrics.registry.contentType });
          response.end(text);
        },
        () => json(500, { error: "metrics failed" }),
      );
      return;
    }
    json(404, { error: "not found" });
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host && options.host !== "0.0.0.0" ? options.host : "127.0.0.1"}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
