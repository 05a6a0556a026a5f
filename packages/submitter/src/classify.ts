import { ApiError } from "./api-request.js";
import { parseRetryAfter } from "./backoff.js";

/** What one failed request means for the submission. */
export type Failure =
  | { kind: "already-exists" }
  | { kind: "unauthorized"; message: string }
  | { kind: "rejected"; status: number; reason: string; message: string }
  | { kind: "transient"; message: string; retryAfterMs?: number }
  | { kind: "fatal"; message: string };

/** Connection errors a later attempt can get past. */
const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
]);

interface StatusBody {
  reason?: unknown;
  message?: unknown;
}

function statusBody(body: string): StatusBody {
  if (body.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === "object" ? (parsed as StatusBody) : { message: body };
  } catch {
    return { message: body };
  }
}

/** Sorts an error from a request to the API server into a Failure. */
export function classify(error: unknown, now: number): Failure {
  if (error instanceof ApiError) {
    const status = error.code;
    const body = statusBody(error.body);
    const reason = typeof body.reason === "string" ? body.reason : "";
    const message = typeof body.message === "string" ? body.message : `HTTP ${status}`;
    if (status === 409 && reason === "AlreadyExists") return { kind: "already-exists" };
    if (status === 401) return { kind: "unauthorized", message: message || "Unauthorized" };
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(error.headers?.["retry-after"], now);
      return {
        kind: "transient",
        message: `HTTP ${status}${reason ? ` ${reason}` : ""}: ${message}`,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    return { kind: "rejected", status, reason: reason || `HTTP${status}`, message };
  }
  const { name, code, message, retryable } = error as {
    name?: string;
    code?: string;
    message?: string;
    retryable?: unknown;
  };
  // An auth that could not get credentials for now (see ClusterAuth) says so.
  if (retryable === true) return { kind: "transient", message: message ?? String(error) };
  if (name === "AbortError") return { kind: "transient", message: "request timed out" };
  if (code && TRANSIENT_CODES.has(code)) return { kind: "transient", message: message ?? code };
  return { kind: "fatal", message: message ?? String(error) };
}
