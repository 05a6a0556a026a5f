import type { CachedToken } from "./token-source.js";

/**
 * The ExecCredential kubectl and client-go expect from a credential plugin, with the
 * token and when to ask again (the token's refresh time, so clients never send a token
 * in its last minute).
 */
export function execCredential(token: CachedToken): string {
  return JSON.stringify({
    kind: "ExecCredential",
    apiVersion: "client.authentication.k8s.io/v1beta1",
    spec: {},
    status: {
      expirationTimestamp: token.refreshAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
      token: token.token,
    },
  });
}
