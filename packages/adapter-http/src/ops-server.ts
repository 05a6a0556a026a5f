import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { handleOps, type OpsOptions, sendJson } from "./ops.js";

/** A running operations server. */
export interface OpsServer {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * /healthz, /readyz and /metrics alone, for long-running entry points that take their
 * events from elsewhere (the SQS consumer).
 */
export async function startOpsServer(
  options: OpsOptions & { readonly port: number; readonly host?: string },
): Promise<OpsServer> {
  const server = createServer((request, response) => {
    handleOps(request, response, options).catch(() => {
      if (!response.headersSent) sendJson(response, 500, { error: "internal error" });
      else response.destroy();
    });
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
