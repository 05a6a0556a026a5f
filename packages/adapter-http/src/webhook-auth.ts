import { createHmac, timingSafeEqual } from "node:crypto";

export interface WebhookAuthOptions {
  /** The webhook's token, as configured in Buildkite's notification service. A secret. */
  token: string;
  /** Refuse X-Buildkite-Token and accept only signed requests. Default false. */
  requireSignature?: boolean;
  /** Largest accepted distance between a signature's timestamp and now. Default 5 minutes. */
  signatureWindowMs?: number;
  now?: () => number;
}

/** Why a request was refused; logged, never sent to the client. */
export type AuthResult =
  | { ok: true; method: "token" | "signature" }
  | { ok: false; reason: string };

/** The headers' verdict: refused, or what is left to check once the body is read. */
export type HeaderCheck =
  | { ok: false; reason: string }
  | { ok: true; verify: (rawBody: Buffer) => AuthResult };

function sameSecret(given: string, expected: string): boolean {
  // Hash both sides to equal lengths, so the comparison is constant time whatever was sent.
  const a = createHmac("sha256", "compare").update(given).digest();
  const b = createHmac("sha256", "compare").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * What can be decided from the headers alone, before any of the body is read: a missing,
 * malformed or stale authentication header is refused here, and a token is checked
 * whole. What passes is a `verify` of the raw body (a signature's HMAC; nothing for a
 * token), so a request that cannot be authentic costs no body bytes.
 *
 * @example
 * const checked = checkWebhookHeaders(request.headers, { token });
 * if (!checked.ok) return refuse(401); // the body is never read
 * const auth = checked.verify(await readBody(request));
 */
export function checkWebhookHeaders(
  headers: Record<string, string | string[] | undefined>,
  options: WebhookAuthOptions,
): HeaderCheck {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const signature = header("x-buildkite-signature");
  if (signature !== undefined) {
    const parts = new Map(
      signature.split(",").map((part) => {
        const at = part.indexOf("=");
        return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
      }),
    );
    const timestamp = parts.get("timestamp") ?? "";
    const given = parts.get("signature") ?? "";
    if (!/^\d{1,12}$/.test(timestamp) || !/^[0-9a-f]{64}$/i.test(given)) {
      return { ok: false, reason: "malformed X-Buildkite-Signature" };
    }
    const window = options.signatureWindowMs ?? 5 * 60_000;
    const now = (options.now ?? Date.now)();
    if (Math.abs(now - Number(timestamp) * 1000) > window) {
      return { ok: false, reason: "signature timestamp outside the accepted window" };
    }
    return {
      ok: true,
      verify: (rawBody) => {
        const expected = createHmac("sha256", options.token)
          .update(`${timestamp}.`)
          .update(rawBody)
          .digest();
        const ok = timingSafeEqual(Buffer.from(given.toLowerCase(), "hex"), expected);
        return ok
          ? { ok: true, method: "signature" }
          : { ok: false, reason: "signature does not match" };
      },
    };
  }
  const token = header("x-buildkite-token");
  if (token !== undefined) {
    if (options.requireSignature)
      return { ok: false, reason: "a signature is required; got a token" };
    return sameSecret(token, options.token)
      ? { ok: true, verify: () => ({ ok: true, method: "token" }) }
      : { ok: false, reason: "token does not match" };
  }
  return { ok: false, reason: "no X-Buildkite-Token or X-Buildkite-Signature" };
}

/**
 * Buildkite's two ways of authenticating a webhook: the plain token in X-Buildkite-Token,
 * or X-Buildkite-Signature `timestamp=<unix s>,signature=<hex HMAC-SHA256 of
 * "<timestamp>.<raw body>" keyed with the token>`, within a window against replays.
 * {@link checkWebhookHeaders} then its `verify`, for a body already read.
 *
 * @example
 * authenticateWebhook(request.headers, rawBody, { token }).ok;
 */
export function authenticateWebhook(
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
  options: WebhookAuthOptions,
): AuthResult {
  const checked = checkWebhookHeaders(headers, options);
  return checked.ok ? checked.verify(rawBody) : checked;
}
