import { createHmac } from "node:crypto";
import { connect, type Socket } from "node:net";
import type { Logger } from "@ondemand-eks/core";
import { createLogger } from "@ondemand-eks/runtime";

/** A token long enough to be accepted (32 characters and more). */
export const TOKEN = "webhook-secret-token-of-the-tests-0123";

/** The runtime's logger, its lines kept (parsed) instead of written. */
export function capturedLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: "debug",
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { log, lines };
}

/** An X-Buildkite-Signature header for `body`. */
export function sign(body: string, timestamp = Math.floor(Date.now() / 1000), token = TOKEN) {
  const signature = createHmac("sha256", token).update(`${timestamp}.${body}`).digest("hex");
  return `timestamp=${timestamp},signature=${signature}`;
}

/** POSTs a webhook to `url`/webhook, as Buildkite sends one. */
export function post(url: string, body: string, headers: Record<string, string>) {
  return fetch(`${url}/webhook`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-buildkite-event": "job.scheduled",
      ...headers,
    },
  });
}

/** A client on a bare socket, to send what fetch would not: half a request, slowly. */
export interface RawClient {
  readonly socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** The status of the answer, once its first line has arrived. */
  status(): Promise<number>;
  /** When the server closed the connection (Date.now()). */
  readonly closed: Promise<number>;
}

/** Connects to the server at `url` with a bare socket. */
export async function rawClient(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = "";
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString("latin1");
  });
  socket.on("error", () => {});
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return {
    socket,
    received: () => received,
    status: async () => {
      await until(() => /^HTTP\/1\.1 \d{3} /.test(received), 5_000, "an answer");
      return Number(received.slice(9, 12));
    },
    closed,
  };
}

/** The head of a POST /webhook, headers as given, ending in the blank line. */
export function head(headers: Record<string, string>): string {
  const lines = Object.entries({ host: "localhost", ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `POST /webhook HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
}

/** A signature header in the right form and window, by a key no one has: it passes the headers' check. */
export function forgedSignature(): string {
  return `timestamp=${Math.floor(Date.now() / 1000)},signature=${"ab".repeat(32)}`;
}

/** Resolves when `condition` holds, checking every 10 ms; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
