import type { Agent } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { abortable } from "./abortable.js";
import { type ApiAnswer, type ApiMethod, apiRequest } from "./api-request.js";
import type { ClusterAuth } from "./auth/cluster-auth.js";
import { backoffDelay, type RetryPolicy } from "./backoff.js";
import { classify, type Failure } from "./classify.js";
import { ApiError, ClusterApiError } from "./errors.js";

/** What every call to one API server shares: credentials, connections, retry rules. */
export interface ApiConnection {
  readonly auth: ClusterAuth;
  readonly agent: Agent;
  /** The server URL without a trailing slash; API paths are appended to it. */
  readonly base: string;
  readonly policy: RetryPolicy;
  /** Longest wait for one request (never past the call's deadline). */
  readonly attemptTimeoutMs: number;
  /** Most requests for one call, retries included. */
  readonly maxAttempts: number;
  readonly userAgent: string;
  readonly random: () => number;
  readonly now: () => number;
}

/** One call: a request sent until it gets a 2xx answer, a refusal, or its deadline. */
export interface ApiCall {
  readonly method: ApiMethod;
  /** The path named in errors: the caller's, without the query the client adds. */
  readonly path: string;
  /** The path sent, query included. */
  readonly target: string;
  /** JSON text, and its content type (default `application/json`). */
  readonly body?: string;
  readonly contentType?: string;
  /** Epoch milliseconds by which the call has an answer or fails `unavailable`. */
  readonly deadline: number;
  /** The deadline as given, for messages. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** How many requests a call sent so far: shared by the pages of one list. */
export interface AttemptCount {
  attempts: number;
}

/**
 * Sends `call` until it gets a 2xx answer, which it resolves with. Transient failures
 * (connection errors, timeouts, 429, 5xx) are retried with capped exponential backoff and
 * jitter until the deadline; a 401 makes the auth refresh once, then the request is sent
 * again; anything else rejects at once. Every failure rejects with a ClusterApiError.
 *
 * A request that was sent but whose answer was lost is sent again: a create may then be
 * refused AlreadyExists, and a replace Conflict, because of the call's own first request.
 *
 * @example
 * ```ts
 * const answer = await sendWithRetries(connection, {
 *   method: "GET", path, target: path, deadline: Date.now() + 10_000, timeoutMs: 10_000,
 * });
 * ```
 */
export async function sendWithRetries(
  connection: ApiConnection,
  call: ApiCall,
  count: AttemptCount = { attempts: 0 },
): Promise<ApiAnswer> {
  const { auth, now } = connection;
  const first = count.attempts;
  let failures = 0;
  let refreshed = false;
  let lastProblem = "no request completed";
  const fail = (
    kind: ClusterApiError["kind"],
    message: string,
    extra: { status?: number; reason?: string } = {},
  ) =>
    new ClusterApiError({
      kind,
      message: `${call.method} ${call.path}: ${message}`,
      attempts: count.attempts,
      ...extra,
    });
  const cancelled = () => fail("unavailable", `cancelled by the caller (${lastProblem})`);
  const late = () => fail("unavailable", `no success within ${call.timeoutMs} ms: ${lastProblem}`);

  for (;;) {
    if (call.signal?.aborted) throw cancelled();
    const remaining = call.deadline - now();
    if (remaining <= 0) throw late();
    if (count.attempts - first >= connection.maxAttempts) {
      throw fail("unavailable", `no success in ${count.attempts - first} attempts: ${lastProblem}`);
    }
    count.attempts += 1;
    // An attempt cut short by the deadline that times out says less than the failure
    // before it, which is then the one reported.
    const shortened = remaining < connection.attemptTimeoutMs;
    const signal = attemptSignal(connection, remaining, call.signal);
    let failure: Failure;
    try {
      // The whole attempt, auth headers included (an exec plugin may hang), is bounded.
      const answer = await abortable(send(connection, call, signal), signal);
      if (answer.status >= 200 && answer.status <= 299) return answer;
      failure = classify(new ApiError(answer.status, answer.text, answer.headers), now());
    } catch (error) {
      failure = classify(error, now());
    }
    if (call.signal?.aborted) throw cancelled();

    switch (failure.kind) {
      case "unauthorized":
        if (!refreshed && auth.refresh) {
          refreshed = true;
          if (await refreshAuth(connection, call)) continue;
        }
        throw fail(
          "unauthorized",
          `the API server did not accept the credentials from ${auth.description} (401 ${failure.message})`,
          { status: 401, reason: "Unauthorized" },
        );
      case "rejected":
        throw fail("rejected", `${failure.status} ${failure.reason}: ${failure.message}`, {
          status: failure.status,
          reason: failure.reason,
        });
      case "fatal":
        throw fail("unavailable", failure.message);
      case "transient": {
        failures += 1;
        if (!(shortened && failures > 1 && failure.timedOut)) lastProblem = failure.message;
        const delay = backoffDelay(
          failures,
          connection.policy,
          connection.random,
          failure.retryAfterMs,
        );
        if (now() + delay >= call.deadline) throw late();
        try {
          await sleep(delay, undefined, call.signal ? { signal: call.signal } : {});
        } catch {
          // Cancelled while waiting: the loop reports it.
        }
        break;
      }
      default:
        throw new Error(`unhandled failure: ${JSON.stringify(failure satisfies never)}`);
    }
  }
}

/** One request with the connection's credentials, pool and user agent. */
async function send(
  connection: ApiConnection,
  call: ApiCall,
  signal: AbortSignal,
): Promise<ApiAnswer> {
  const { body } = call;
  const headers: Record<string, string> = {
    accept: "application/json",
    "user-agent": connection.userAgent,
    ...(body === undefined ? {} : { "content-type": call.contentType ?? "application/json" }),
    ...(await connection.auth.headers()),
  };
  return apiRequest({
    url: `${connection.base}${call.target}`,
    method: call.method,
    headers,
    ...(body === undefined ? {} : { body }),
    agent: connection.agent,
    signal,
  });
}

/** Asks the auth for newer credentials, within the deadline; false on any failure. */
async function refreshAuth(connection: ApiConnection, call: ApiCall): Promise<boolean> {
  const { auth } = connection;
  const remaining = call.deadline - connection.now();
  if (!auth.refresh || remaining <= 0) return false;
  try {
    return await abortable(auth.refresh(), attemptSignal(connection, remaining, call.signal));
  } catch {
    return false;
  }
}

function attemptSignal(
  connection: ApiConnection,
  remaining: number,
  caller?: AbortSignal,
): AbortSignal {
  const timeout = AbortSignal.timeout(
    Math.max(1, Math.min(connection.attemptTimeoutMs, remaining)),
  );
  return caller ? AbortSignal.any([timeout, caller]) : timeout;
}
