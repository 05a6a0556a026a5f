import { createHmac } from "node:crypto";
import type { Logger } from "@ondemand-eks/core";
import { createLogger } from "@ondemand-eks/runtime";

export const TOKEN = "webhook-secret-token";

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
