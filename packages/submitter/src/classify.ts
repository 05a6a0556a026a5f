import { parseRetryAfter } from "./backoff.js";
import { ApiError } from "./errors.js";

/**
 * What one failed request means for the submission:
 * - `unauthorized`: a 401; new credentials may help once.
 * - `rejected`: any other status a retry cannot change (409 AlreadyExists included: see
 *   {@link isAlreadyExists}).
 * - `transient`: a later attempt may succeed. `timedOut` when the attempt got no answer
 *   in its time, which says less than a failure the server or connection reported.
 * - `fatal`: the connection cannot work as configured (TLS trust, an unknown host).
 */
export type Failure =
  | { readonly kind: "unauthorized"; readonly message: string }
  | {
      readonly kind: "rejected";
      readonly status: number;
      readonly reason: string;
      readonly message: string;
    }
  | {
      readonly kind: "transient";
      readonly message: string;
      readonly timedOut: boolean;
      readonly retryAfterMs?: number;
    }
  | { readonly kind: "fatal"; readonly message: string };

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
    const { status } = error;
    const body = statusBody(error.body);
    const reason = typeof body.reason === "string" ? body.reason : "";
    const message = typeof body.message === "string" ? body.message : `HTTP ${status}`;
    if (status === 401) return { kind: "unauthorized", message: message || "Unauthorized" };
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(error.headers["retry-after"], now);
      return {
        kind: "transient",
        message: `HTTP ${status}${reason ? ` ${reason}` : ""}: ${message}`,
        timedOut: false,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    return { kind: "rejected", status, reason: reason || `HTTP${status}`, message };
  }
  // Anything may be thrown (an auth's headers() could reject with undefined).
  const { name, code, message, retryable } = (
    typeof error === "object" && error !== null ? error : {}
  ) as { name?: unknown; code?: unknown; message?: unknown; retryable?: unknown };
  const said = typeof message === "string" ? message : String(error);
  // An auth that could not get credentials for now (see ClusterAuth) says so.
  if (retryable === true) return { kind: "transient", message: said, timedOut: false };
  if (name === "AbortError") {
    return { kind: "transient", message: "request timed out", timedOut: true };
  }
  if (typeof code === "string" && TRANSIENT_CODES.has(code)) {
    return { kind: "transient", message: said, timedOut: false };
  }
  return { kind: "fatal", message: said };
}

/** Whether the API server refused a create because an object of that name exists. */
export function isAlreadyExists(failure: Failure): boolean {
  return (
    failure.kind === "rejected" && failure.status === 409 && failure.reason === "AlreadyExists"
  );
}
