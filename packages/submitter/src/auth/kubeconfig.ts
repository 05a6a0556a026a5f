import type { RequestOptions } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import { type ClusterAuth, ClusterAuthError, type ClusterTls } from "./cluster-auth.js";

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
 */
export async function kubeconfigAuth(options: KubeconfigAuthOptions = {}): Promise<ClusterAuth> {
  const config = new KubeConfig();
  const source = options.path ?? "the default kubeconfig ($KUBECONFIG or ~/.kube/config)";
  try {
    if (options.path) config.loadFromFile(options.path);
    else config.loadFromDefault();
  } catch (error) {
    throw new ClusterAuthError(`cannot read kubeconfig ${source}: ${(error as Error).message}`, {
      cause: error,
    });
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
      `cannot load credentials from kubeconfig ${source}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const tls: ClusterTls = {};
  if (options0.ca) tls.ca = options0.ca as Buffer;
  if (options0.cert) tls.cert = options0.cert as Buffer;
  if (options0.key) tls.key = options0.key as Buffer;
  if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
  if (cluster.skipTLSVerify) tls.rejectUnauthorized = false;
  const staticHeaders = authorizationOnly(options0.headers);

  return {
    server: cluster.server.replace(/\/+$/, ""),
    tls,
    description: `kubeconfig ${source}, context "${config.getCurrentContext()}"`,
    async headers() {
      if (!dynamic) return staticHeaders;
      const fresh: RequestOptions & { headers: Record<string, string> } = { headers: {} };
      await config.applyToHTTPSOptions(fresh);
      return authorizationOnly(fresh.headers);
    },
  };
}

function authorizationOnly(headers: Record<string, string>): Record<string, string> {
  const authorization = headers.Authorization ?? headers.authorization;
  return authorization ? { Authorization: authorization } : {};
}
