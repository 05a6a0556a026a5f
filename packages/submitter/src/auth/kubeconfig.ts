import type { RequestOptions } from "node:https";
import { join } from "node:path";
import { ClusterAuthError } from "../errors.js";
import type { ClusterAuth, ClusterTls } from "./cluster-auth.js";

/** Where client-node's default loader looks last, before it gives up. */
const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export interface KubeconfigAuthOptions {
  /** A kubeconfig file; default: $KUBECONFIG, then ~/.kube/config. */
  path?: string;
  /** A context other than the file's current-context. */
  context?: string;
}

/**
 * Cluster auth from a kubeconfig, loaded by @kubernetes/client-node, so every user form
 * it knows works: client certificates, tokens, token files, exec plugins (such as
 * `aws eks get-token`) and auth providers. Tokens that can change are asked for on every
 * request (client-node caches exec credentials until they expire).
 *
 * client-node is imported here, when a kubeconfig is used, and nowhere else: loading it
 * takes about 75 MiB and most of a second, which in-cluster and EKS auth do not pay.
 */
export async function kubeconfigAuth(options: KubeconfigAuthOptions = {}): Promise<ClusterAuth> {
  const { findHomeDir, KubeConfig } = await import("./client-node.js");
  const config = new KubeConfig();
  const source = options.path ?? "the default kubeconfig ($KUBECONFIG or ~/.kube/config)";
  // No `cause` on these errors: a parser's own message may quote a secret (see safeMessage).
  try {
    if (options.path) config.loadFromFile(options.path);
    else config.loadFromDefault();
  } catch (error) {
    throw new ClusterAuthError(`cannot read kubeconfig ${source}: ${safeMessage(error)}`);
  }
  if (options.context) {
    if (!config.getContextObject(options.context)) {
      const known = config.getContexts().map((context) => context.name);
      throw new ClusterAuthError(
        `kubeconfig ${source} has no context "${options.context}" (it has: ${known.join(", ") || "none"})`,
      );
    }
    config.setCurrentContext(options.context);
  }
  const cluster = config.getCurrentCluster();
  // client-node's last resort when it finds nothing: an unauthenticated localhost:8080.
  if (!options.path && cluster?.name === "cluster" && cluster.server === "http://localhost:8080") {
    const home = findHomeDir();
    const homeConfig = home
      ? `no ${join(home, ".kube", "config")}`
      : "no home directory to hold .kube/config";
    throw new ClusterAuthError(
      `no kubeconfig found: no path was given, $KUBECONFIG names no file, there is ${homeConfig}, and no ServiceAccount token at ${SERVICE_ACCOUNT_TOKEN}`,
    );
  }
  if (!cluster?.server) {
    throw new ClusterAuthError(
      `kubeconfig ${source} names no cluster server for its current context`,
    );
  }
  const user = config.getCurrentUser();
  const dynamic = Boolean(user?.exec || user?.authProvider);

  const options0: RequestOptions & { headers: Record<string, string> } = { headers: {} };
  try {
    await config.applyToHTTPSOptions(options0);
  } catch (error) {
    throw new ClusterAuthError(
      `cannot load credentials from kubeconfig ${source}: ${safeMessage(error)}`,
    );
  }
  const tls: ClusterTls = {};
  if (options0.ca) tls.ca = options0.ca as Buffer;
  if (options0.cert) tls.cert = options0.cert as Buffer;
  if (options0.key) tls.key = options0.key as Buffer;
  if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
  if (cluster.skipTLSVerify) tls.rejectUnauthorized = false;
  const staticHeaders = credentialHeaders(options0.headers);
  let inflight: Promise<Record<string, string>> | undefined;
  const fresh = async () => {
    const next: RequestOptions & { headers: Record<string, string> } = { headers: {} };
    await config.applyToHTTPSOptions(next);
    return credentialHeaders(next.headers);
  };

  return {
    server: cluster.server.replace(/\/+$/, ""),
    tls,
    description: `kubeconfig ${source}, context "${config.getCurrentContext()}"`,
    headers() {
      if (!dynamic) return Promise.resolve(staticHeaders);
      // Concurrent requests share one credential lookup (one exec plugin run, not many).
      inflight ??= fresh().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
}

/** Authorization, and impersonation (a kubeconfig's `as:`), which must not be dropped. */
function credentialHeaders(headers: Record<string, string | string[]>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (/^(authorization|impersonate-.*)$/i.test(name)) {
      kept[name] = Array.isArray(value) ? value.join(",") : value;
    }
  }
  return kept;
}

/**
 * An error's message without what may be a secret: YAML parsers quote the lines around
 * a syntax error (a token next to it), JSON.parse quotes the text it choked on (an exec
 * plugin's output). Keeps the first line, with quoted text elided.
 */
export function safeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // File system errors name a path, never file contents.
  if ((error as NodeJS.ErrnoException).syscall) return message;
  const first = message.split("\n")[0] ?? "";
  return first
    .replace(/"[^"]*"/g, '"..."')
    .replace(/'[^']*'/g, "'...'")
    .trim();
}
