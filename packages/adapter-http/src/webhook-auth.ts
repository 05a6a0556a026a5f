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

function sameSecret(given: string, expected: string): boolean {
  // Hash both sides to equal lengths, so the comparison is constant time whatever was sent.
  const a = createHmac("sha256", "compare").update(given).digest();
  const b = createHmac("sha256", "compare").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Buildkite's two ways of authenticating a webhook: the plain token in X-Buildkite-Token,
 * or X-Buildkite-Signature `timestamp=<unix s>,signature=<hex HMAC-SHA256 of
 * "<timestamp>.<raw body>" keyed with the token>`, within a window against replays.
 */
export function authenticateWebhook(
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
  options: WebhookAuthOptions,
): AuthResult {
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
    const expected = createHmac("sha256", options.token)
      .update(`${timestamp}.`)
      .update(rawBody)
      .digest();
    const ok = timingSafeEqual(Buffer.from(given.toLowerCase(), "hex"), expected);
    return ok
      ? { ok: true, method: "signature" }
      : { ok: false, reason: "signature does not match" };
  }
  const token = header("x-buildkite-token");
  if (token !== undefined) {
    if (options.requireSignature)
      return { ok: false, reason: "a signature is required; got a token" };
    return sameSecret(token, options.token)
      ? { ok: true, method: "token" }
      : { ok: false, reason: "token does not match" };
  }
  return { ok: false, reason: "no X-Buildkite-Token or X-Buildkite-Signature" };
}
