import type { Agent } from "node:http";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

/** The most of an answer that is read: a Job, or a Status, is a few KiB. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The HTTP methods of the Kubernetes API. */
export type ApiMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One request to the API server. */
export interface ApiRequest {
  readonly url: string;
  readonly method: ApiMethod;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON text. */
  readonly body?: string;
  readonly agent: Agent;
  readonly signal: AbortSignal;
}

/** The API server's answer, whatever its status. */
export interface ApiAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  return Object.assign(new Error("The operation was aborted", { cause: reason }), {
    name: "AbortError",
    code: "ABORT_ERR",
  });
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

/**
 * Sends one request over node:http(s) and reads the whole answer, until `signal` aborts
 * it (rejecting with an AbortError). Connection failures reject with Node's errors
 * (ECONNREFUSED, ECONNRESET for a connection closed mid-answer, ...). No redirect is
 * followed: an API server never answers a create with one, so a 3xx is reported as is.
 *
 * The submitter's three calls (create, read, version) and every ClusterApi call go
 * through here rather than client-node's generated API: in a CPU profile of the webhook adapter at saturation,
 * that API's layers (node-fetch, its observables, the model serializer) cost 0.6 to
 * 0.9 ms of CPU per create, about a third of the adapter's time per Job then (see
 * bench/README.md).
 */
export function apiRequest(options: ApiRequest): Promise<ApiAnswer> {
  const { signal, body } = options;
  if (signal.aborted) return Promise.reject(abortError(signal));
  const url = new URL(options.url);
  const headers: Record<string, string | number> = { ...options.headers };
  if (body !== undefined) headers["content-length"] = Buffer.byteLength(body);

  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = () => {
      settled = true;
      signal.removeEventListener("abort", onAbort);
    };
    const fail = (error: Error) => {
      if (settled) return;
      settle();
      request.destroy();
      reject(error);
    };
    const onAbort = () => fail(abortError(signal));
    const request = (url.protocol === "http:" ? httpRequest : httpsRequest)(
      url,
      { method: options.method, headers, agent: options.agent },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            fail(new Error(`the API server's answer is larger than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        // A connection closed mid-answer errors here (ECONNRESET, "aborted").
        response.on("error", fail);
        response.on("end", () => {
          if (settled) return;
          settle();
          resolve({
            status: response.statusCode ?? 0,
            headers: flatHeaders(response.headers),
            text: Buffer.concat(chunks).toString("utf8"),
          });
        });
      },
    );
    signal.addEventListener("abort", onAbort, { once: true });
    request.on("error", fail);
    request.end(body);
  });
}
