import { backoffDelay, parseRetryAfter, type RetryPolicy } from "@ondemand-eks/submitter";
import type { z } from "zod";
import { StacksApiError } from "./errors.js";
import { describeIssue } from "./schemas.js";

/**
 * One Stacks API request with the client's retry rules: 429 waits for `Retry-After`
 * (seconds or an HTTP date); 5xx, connection errors and attempt timeouts back off with
 * jitter; all within the call's deadline. 401/403 and other 4xx end the call at once.
 */

/** What every request of one client shares. */
export interface TransportSettings {
  /** The Stacks API's base, without a trailing slash: `https://agent.buildkite.com/v3`. */
  readonly endpoint: string;
  readonly token: string;
  readonly attemptTimeoutMs: number;
  readonly retry: RetryPolicy;
  readonly fetch: typeof fetch;
  readonly random: () => number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly onRequest?: (call: string, status: number | "error", seconds: number) => void;
}

/** One request: which call it serves, what to send, how to read the answer, and until when. */
export interface StacksRequest<T> {
  readonly call: string;
  readonly method: "GET" | "POST" | "PUT";
  /** Below the endpoint, segments already encoded: `stacks/my-stack/register`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly schema: z.ZodType<T, unknown>;
  /** When the call must end, on `settings.now`'s clock. */
  readonly deadline: number;
  /** The call's whole budget, for messages. */
  readonly timeoutMs: number;
}

type Attempt =
  | {
      readonly kind: "answer";
      readonly status: number;
      readonly text: string;
      readonly retryAfter: string | undefined;
    }
  | { readonly kind: "error"; readonly error: unknown; readonly timedOut: boolean };

/** 429 (rate limited) and 5xx are worth another attempt; other answers are final. */
const isRetryable = (status: number) => status === 429 || status >= 500;

/**
 * Sends `request`, retrying as the module says, and returns the parsed answer.
 *
 * @example
 * const token = await send(settings, { call: "whoami", method: "GET", path: "token",
 *   schema: tokenAnswer, deadline: Date.now() + 10_000, timeoutMs: 10_000 });
 */
export async function send<T>(settings: TransportSettings, request: StacksRequest<T>): Promise<T> {
  const { call } = request;
  let failures = 0;
  let last = "no attempt was made";
  for (;;) {
    const remaining = request.deadline - settings.now();
    if (remaining <= 0) throw exhausted(settings, request, failures, last);
    const attempt = await attemptOnce(
      settings,
      request,
      Math.min(settings.attemptTimeoutMs, remaining),
    );
    if (attempt.kind === "answer" && attempt.status < 300) return parse(settings, request, attempt);
    if (attempt.kind === "answer" && !isRetryable(attempt.status)) {
      throw refused(settings, call, attempt.status, attempt.text);
    }
    failures += 1;
    last = describeAttempt(attempt);
    const now = settings.now();
    const retryAfterMs =
      attempt.kind === "answer" ? parseRetryAfter(attempt.retryAfter, now) : undefined;
    const left = request.deadline - now;
    if (retryAfterMs !== undefined && retryAfterMs > left) {
      const seconds = Math.ceil(retryAfterMs / 1000);
      throw new StacksApiError(
        {
          kind: "unavailable",
          call,
          status: attempt.kind === "answer" ? attempt.status : undefined,
        },
        `${call}: Buildkite asked to come back in ${seconds} s (at ${new Date(now + retryAfterMs).toISOString()}), ` +
          `after this call's deadline (${Math.max(0, left)} ms left of ${request.timeoutMs} ms); try again then`,
      );
    }
    const delay = backoffDelay(failures, settings.retry, settings.random, retryAfterMs);
    if (delay >= left) throw exhausted(settings, request, failures, last);
    await settings.sleep(delay);
  }
}

/** One HTTP exchange, bounded by `timeoutMs`; reports it to `onRequest`. */
async function attemptOnce<T>(
  settings: TransportSettings,
  request: StacksRequest<T>,
  timeoutMs: number,
): Promise<Attempt> {
  const url = new URL(`${settings.endpoint}/${request.path}`);
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  const signal = AbortSignal.timeout(timeoutMs);
  const started = settings.now();
  const report = (status: number | "error") =>
    settings.onRequest?.(request.call, status, (settings.now() - started) / 1000);
  try {
    const response = await settings.fetch(url, {
      method: request.method,
      headers: {
        authorization: `Token ${settings.token}`,
        accept: "application/json",
        ...(request.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal,
    });
    const text = await response.text();
    report(response.status);
    return {
      kind: "answer",
      status: response.status,
      text,
      retryAfter: response.headers.get("retry-after") ?? undefined,
    };
  } catch (error) {
    report("error");
    return { kind: "error", error, timedOut: signal.aborted };
  }
}

/** The answer's body parsed with the request's schema, or `unavailable` saying why not. */
function parse<T>(
  settings: TransportSettings,
  request: StacksRequest<T>,
  attempt: { status: number; text: string },
): T {
  let json: unknown;
  try {
    json = attempt.text.trim() === "" ? {} : JSON.parse(attempt.text);
  } catch (cause) {
    throw unexpected(settings, request.call, attempt.status, "not JSON", cause);
  }
  const result = request.schema.safeParse(json);
  if (result.success) return result.data;
  throw unexpected(
    settings,
    request.call,
    attempt.status,
    describeIssue(result.error),
    result.error,
  );
}

function unexpected(
  settings: TransportSettings,
  call: string,
  status: number,
  what: string,
  cause: unknown,
): StacksApiError {
  return new StacksApiError(
    { kind: "unavailable", call, status },
    `${call}: Buildkite answered ${status} with a body that is not the Stacks API's (${scrub(settings, what)}); ` +
      `check the endpoint ${settings.endpoint} is Buildkite's agent API (https://agent.buildkite.com/v3)`,
    { cause },
  );
}

/** A 4xx other than 429: `unauthorized` for 401/403, `rejected` for the rest. */
function refused(settings: TransportSettings, call: string, status: number, text: string) {
  if (status === 401 || status === 403) {
    return new StacksApiError(
      { kind: "unauthorized", call, status },
      `${call}: Buildkite refused the cluster token (${status}): check BUILDKITE_CLUSTER_TOKEN is a ` +
        "cluster agent token of the cluster that owns the queue",
    );
  }
  const said = serverMessage(settings, text);
  const hint =
    status === 404
      ? "check the stack is registered (register) and the job exists"
      : "repeating the request will not help";
  return new StacksApiError(
    { kind: "rejected", call, status },
    `${call}: Buildkite refused the request (${status}${said ? `: ${said}` : ""}); ${hint}`,
  );
}

function exhausted(
  settings: TransportSettings,
  request: StacksRequest<unknown>,
  failures: number,
  last: string,
) {
  const attempts = failures === 1 ? "1 attempt" : `${failures} attempts`;
  const status = /^HTTP (\d{3})/.exec(last)?.[1];
  return new StacksApiError(
    { kind: "unavailable", call: request.call, status: status ? Number(status) : undefined },
    `${request.call}: Buildkite's Stacks API gave no usable answer within ${request.timeoutMs} ms ` +
      `(${attempts}; last: ${scrub(settings, last)}); check the network path to Buildkite and its status page, ` +
      "and try again later",
  );
}

function describeAttempt(attempt: Attempt): string {
  if (attempt.kind === "answer") {
    return `HTTP ${attempt.status}${attempt.retryAfter ? ` (Retry-After ${attempt.retryAfter})` : ""}`;
  }
  if (attempt.timedOut) return "the attempt timed out";
  const error = attempt.error;
  const cause =
    error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `connection error: ${error instanceof Error ? error.message : String(error)}${cause}`;
}

/** The `message` of an error answer (or its start), without the token. */
function serverMessage(settings: TransportSettings, text: string): string {
  let message = text;
  try {
    const json: unknown = JSON.parse(text);
    if (
      json &&
      typeof json === "object" &&
      typeof (json as { message?: unknown }).message === "string"
    ) {
      message = (json as { message: string }).message;
    }
  } catch {
    // not JSON: keep the text
  }
  return scrub(settings, message.replace(/\s+/g, " ").trim().slice(0, 200));
}

function scrub(settings: TransportSettings, text: string): string {
  return settings.token ? text.split(settings.token).join("[redacted]") : text;
}
