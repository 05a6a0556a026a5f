/**
 * What a client may cost the webhook server: bytes, connections, bodies held at once,
 * and time. Every bound has a default here, with the reason for its figure.
 */

/**
 * The largest webhook body accepted by default: 512 KiB.
 *
 * The largest `job.scheduled` webhook we could build from Buildkite's documented fields
 * (`tests/fixtures/largest-webhook.ts`) is 330,163 bytes (322 KiB): a 128 KiB command
 * (Linux refuses any one environment string over 128 KiB, and the agent hands the
 * command to its bootstrap as `BUILDKITE_COMMAND`, so no longer command can run), JSON
 * escaping of its quotes and newlines, 64 agent query rules of 256 characters, a 64 KiB
 * commit message, 16 KiB each of step and build environment and build meta-data (the
 * docs advise 1 KB per meta-data value), the pipeline's YAML, and every other job,
 * build and pipeline field at a generous length. 512 KiB leaves over half as much
 * again; the usual webhook is a few KiB.
 */
export const DEFAULT_BODY_LIMIT = 512 * 1024;

/**
 * Connections open at once; one more is answered 503 and closed before anything of it
 * is read. Each costs at most Node's header buffer (16 KiB) and a socket: a few MiB for
 * all of them.
 */
export const DEFAULT_MAX_CONNECTIONS = 512;

/**
 * Requests whose body is being read or handled at once; one more is answered 503 before
 * its body is read. Bytes buffered never exceed this times the body limit (32 MiB by
 * default), well within the Deployment's 384 MiB with the ~75 MiB the process needs.
 */
export const DEFAULT_MAX_BODIES_IN_FLIGHT = 64;

/** Longest a client may take from connecting to the end of a request's headers. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;

/** Longest a client may take to send a whole request, headers and body. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * How often Node checks the two timeouts above. Its default, 30 s, let a 10 s header
 * timeout run to 26 s and a 30 s request timeout to 56 s; at 250 ms both hold to within
 * a quarter of a second, for a scan of the open connections four times a second.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 250;

/** What `Retry-After` says when the server is full: Buildkite does not retry, a person may. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * Fewest characters a webhook token may have. A token sent as `X-Buildkite-Token` can be
 * guessed online, and a signature's key offline from one captured request; 32 characters
 * is 128 bits as hex (`openssl rand -hex 16`) and more in any richer alphabet, beyond
 * either. Shorter tokens are refused at start-up, whatever made them.
 */
export const MIN_TOKEN_LENGTH = 32;

/**
 * How long a body may still be arriving before, with every slot taken, a new request takes
 * its slot. A forged signature passes the header check (only the body's HMAC tells), so
 * stalled uploads could otherwise hold every slot until the request timeout and turn every
 * real webhook away; Buildkite's bodies (330 KB at most) arrive in a fraction of this.
 */
export const DEFAULT_SLOW_BODY_MS = 1_000;

/**
 * How long a body may go without a byte before, with every slot taken, a new request takes
 * its slot: a stalled upload is cut off at once, while one that trickles to dodge this is
 * still cut at {@link DEFAULT_SLOW_BODY_MS}.
 */
export const DEFAULT_IDLE_BODY_MS = 100;

/** The bounds of one webhook server; each defaults to the constant of its name. */
export interface HttpLimits {
  /** Largest body accepted, in bytes. Default {@link DEFAULT_BODY_LIMIT}. */
  readonly bodyLimit?: number;
  /** Connections open at once. Default {@link DEFAULT_MAX_CONNECTIONS}. */
  readonly maxConnections?: number;
  /** Requests with a body being read or handled at once. Default {@link DEFAULT_MAX_BODIES_IN_FLIGHT}. */
  readonly maxBodiesInFlight?: number;
  /** From connecting to the end of the headers, in ms. Default {@link DEFAULT_HEADERS_TIMEOUT_MS}. */
  readonly headersTimeoutMs?: number;
  /** A whole request, in ms; not less than `headersTimeoutMs`. Default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  readonly requestTimeoutMs?: number;
  /**
   * When every body slot is taken, a body still being read after this long (ms) gives its
   * slot to the new request. Default {@link DEFAULT_SLOW_BODY_MS}.
   */
  readonly slowBodyMs?: number;
  /**
   * When every body slot is taken, a body that has received nothing for this long (ms)
   * gives its slot to the new request. Default {@link DEFAULT_IDLE_BODY_MS}.
   */
  readonly idleBodyMs?: number;
}

/** Every bound of {@link HttpLimits}, defaults filled in. */
export type ResolvedLimits = Required<HttpLimits>;

/**
 * The limits with their defaults, checked: a bound below 1 or a header timeout longer
 * than the request timeout is a `RangeError`.
 *
 * @example
 * resolveLimits({ bodyLimit: 64 * 1024 }).maxBodiesInFlight; // 64
 */
export function resolveLimits(limits: HttpLimits = {}): ResolvedLimits {
  const resolved: ResolvedLimits = {
    bodyLimit: limits.bodyLimit ?? DEFAULT_BODY_LIMIT,
    maxConnections: limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    maxBodiesInFlight: limits.maxBodiesInFlight ?? DEFAULT_MAX_BODIES_IN_FLIGHT,
    headersTimeoutMs: limits.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: limits.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    slowBodyMs: limits.slowBodyMs ?? DEFAULT_SLOW_BODY_MS,
    idleBodyMs: limits.idleBodyMs ?? DEFAULT_IDLE_BODY_MS,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a whole number of at least 1, got ${value}`);
    }
  }
  if (resolved.headersTimeoutMs > resolved.requestTimeoutMs) {
    throw new RangeError(
      `headersTimeoutMs (${resolved.headersTimeoutMs}) must not exceed requestTimeoutMs (${resolved.requestTimeoutMs})`,
    );
  }
  return resolved;
}

/**
 * Why a webhook token cannot be used, or `undefined` when it can: too short to be a
 * secret ({@link MIN_TOKEN_LENGTH}).
 *
 * @example
 * webhookTokenProblem("hunter2"); // "is 7 characters; at least 32 are needed ..."
 */
export function webhookTokenProblem(token: string): string | undefined {
  if (token.length >= MIN_TOKEN_LENGTH) return undefined;
  return `is ${token.length} characters; at least ${MIN_TOKEN_LENGTH} are needed to be secret (make one with: openssl rand -hex 32)`;
}
