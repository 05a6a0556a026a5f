import { createServer, type Server } from "node:http";
import { type ListenOptions, listen, urlOf } from "./listen.js";
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
 * events from elsewhere (the SQS consumer, the controller). It listens on every
 * address, IPv6 included, unless given `host` (see {@link listen}).
 *
 * @example
 * const ops = await startOpsServer({ port: 8080, ready: async () => true, log });
 * await ops.close();
 */
export async function startOpsServer(options: OpsOptions & ListenOptions): Promise<OpsServer> {
  const server = createServer((request, response) => {
    handleOps(request, response, options).catch(() => {
      if (!response.headersSent) sendJson(response, 500, { error: "internal error" });
      else response.destroy();
    });
  });
  server.requestTimeout = 10_000;
  await listen(server, options);
  return {
    url: urlOf(server),
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
