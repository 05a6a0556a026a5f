import { EksAuthError } from "./errors.js";
import type { CachedToken } from "./token-source.js";

/** The ExecCredential versions client-go reads (v1alpha1 is gone since Kubernetes 1.24). */
export const EXEC_CREDENTIAL_API_VERSIONS = [
  "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1",
] as const;

export type ExecCredentialApiVersion = (typeof EXEC_CREDENTIAL_API_VERSIONS)[number];

/** What a plugin answers when nothing says which version is wanted: what `aws eks get-token` does. */
export const DEFAULT_EXEC_CREDENTIAL_API_VERSION: ExecCredentialApiVersion =
  "client.authentication.k8s.io/v1beta1";

function invalid(message: string): EksAuthError {
  return new EksAuthError("EKS_INVALID_OPTIONS", [{ path: "KUBERNETES_EXEC_INFO", message }]);
}

/**
 * The apiVersion a client asks a credential plugin to answer in: client-go passes the
 * kubeconfig's `exec.apiVersion` in `KUBERNETES_EXEC_INFO` (an ExecCredential as JSON),
 * and refuses an answer in another version. Absent or empty: the default (v1beta1).
 * Throws `EKS_INVALID_OPTIONS` naming the variable when it is not JSON or asks for a
 * version we cannot answer in.
 *
 * @example
 * ```ts
 * execCredentialApiVersion(process.env.KUBERNETES_EXEC_INFO); // "client.authentication.k8s.io/v1"
 * ```
 */
export function execCredentialApiVersion(execInfo: string | undefined): ExecCredentialApiVersion {
  if (execInfo === undefined || execInfo.trim() === "") return DEFAULT_EXEC_CREDENTIAL_API_VERSION;
  let parsed: unknown;
  try {
    parsed = JSON.parse(execInfo);
  } catch {
    throw invalid("expected an ExecCredential as JSON");
  }
  const apiVersion = (parsed as { apiVersion?: unknown } | null)?.apiVersion;
  if (apiVersion === undefined) return DEFAULT_EXEC_CREDENTIAL_API_VERSION;
  const known = EXEC_CREDENTIAL_API_VERSIONS.find((version) => version === apiVersion);
  if (!known) {
    throw invalid(
      `expected apiVersion ${EXEC_CREDENTIAL_API_VERSIONS.join(" or ")}, received ${JSON.stringify(apiVersion)}`,
    );
  }
  return known;
}

/**
 * The ExecCredential kubectl and client-go expect from a credential plugin, in the
 * apiVersion asked for (default v1beta1), with the token and when to ask again (the
 * token's refresh time, so clients never send a token in its last minute).
 *
 * @example
 * ```ts
 * const apiVersion = execCredentialApiVersion(process.env.KUBERNETES_EXEC_INFO);
 * process.stdout.write(execCredential(await source.get(), { apiVersion }));
 * ```
 */
export function execCredential(
  token: CachedToken,
  options: { readonly apiVersion?: ExecCredentialApiVersion } = {},
): string {
  return JSON.stringify({
    kind: "ExecCredential",
    apiVersion: options.apiVersion ?? DEFAULT_EXEC_CREDENTIAL_API_VERSION,
    spec: {},
    status: {
      expirationTimestamp: token.refreshAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
      token: token.token,
    },
  });
}
