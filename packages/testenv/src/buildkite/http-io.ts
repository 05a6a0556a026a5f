import type { IncomingMessage, ServerResponse } from "node:http";
import { gunzipSync } from "node:zlib";

/**
 * Reading requests and writing JSON answers for the Buildkite emulator, in node:http.
 */

/** The request body, un-gzipped when the agent sent `Content-Encoding: gzip` (log chunks). */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  const body = Buffer.concat(parts);
  return request.headers["content-encoding"] === "gzip" && body.length > 0
    ? gunzipSync(body)
    : body;
}

/** The body parsed as a JSON object; `{}` when it is empty or not an object. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** Answers `status` with `body` as JSON, with any extra `headers` (e.g. `retry-after`). */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

/** The token of an `Authorization: Token <token>` header, if there is one. */
export function tokenOf(request: IncomingMessage): string | undefined {
  const match = /^Token\s+(\S+)$/i.exec(request.headers.authorization ?? "");
  return match?.[1];
}
