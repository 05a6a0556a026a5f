import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@ondemand-eks/core";

/**
 * Where the servers listen unless told otherwise: every address, IPv6 and IPv4. Node
 * opens `::` dual-stack (IPv4 arrives as `::ffff:a.b.c.d`) unless the system sets
 * IPV6_V6ONLY, so one listener answers probes in IPv4, IPv6 and dual-stack clusters.
 */
export const DEFAULT_HOST = "::";

/** Every IPv4 address: where {@link DEFAULT_HOST} falls back on a machine without IPv6. */
export const IPV4_ANY = "0.0.0.0";

/** The errors of listening on `::` where the kernel has no IPv6 (disabled, or no stack). */
const NO_IPV6 = new Set(["EAFNOSUPPORT", "EADDRNOTAVAIL"]);

/** What {@link listen} needs besides the server. */
export interface ListenOptions {
  /** The port (0: any free one). */
  readonly port: number;
  /** The address; {@link DEFAULT_HOST} when absent. */
  readonly host?: string | undefined;
  /**
   * Told, once, when `::` is unavailable and the server listens on IPv4 only; without
   * it, that line goes to stderr.
   */
  readonly log?: Pick<Logger, "warn"> | undefined;
}

function listenOnce(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Left in place once listening, as before: a later server error (EMFILE on accept)
    // then settles nothing and does not crash the process for want of a listener.
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
}

/**
 * Listens on `host` (every address, IPv6 included, by default). Where the machine has
 * no IPv6, listening on `::` fails with EAFNOSUPPORT or EADDRNOTAVAIL: it then listens
 * on every IPv4 address instead and says so with one warning. Any other error (the port
 * taken) is thrown.
 *
 * @example
 * const server = createServer(handler);
 * await listen(server, { port: 8080, log });
 * urlOf(server); // "http://127.0.0.1:8080"
 */
export async function listen(server: Server, options: ListenOptions): Promise<void> {
  const host = options.host ?? DEFAULT_HOST;
  try {
    await listenOnce(server, options.port, host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (host !== DEFAULT_HOST || !NO_IPV6.has(code)) throw error;
    const message = "no IPv6 on this machine: listening on IPv4 addresses only";
    if (options.log) options.log.warn(message, { host: IPV4_ANY, port: options.port, error: code });
    else process.stderr.write(`ondemand-eks: ${message} (${IPV4_ANY}, ${code})\n`);
    await listenOnce(server, options.port, IPV4_ANY);
  }
}

/**
 * `http://host:port` of a listening server, for a client on this machine: the loopback
 * address when it listens on every address (`::` answers IPv4 too), brackets around IPv6.
 *
 * @example
 * urlOf(server); // "http://[::1]:9090" when listening on ::1
 */
export function urlOf(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  if (address === IPV4_ANY || address === DEFAULT_HOST) return `http://127.0.0.1:${port}`;
  return `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
}
