import { readFile, stat } from "node:fs/promises";
import { isIPv6 } from "node:net";
import { ClusterAuthError } from "../errors.js";
import type { ClusterAuth } from "./cluster-auth.js";

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface InClusterAuthOptions {
  /** Default: the mounted ServiceAccount token. */
  tokenPath?: string;
  /** Default: the mounted cluster CA. */
  caPath?: string;
  /** Default: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT. */
  server?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Cluster auth for a process running in a pod: the ServiceAccount token the kubelet
 * mounts, and the cluster CA. Projected tokens rotate (about hourly), so the file is
 * checked before every request and re-read when its modification time or size changed,
 * and re-read unconditionally after a 401.
 */
export async function inClusterAuth(options: InClusterAuthOptions = {}): Promise<ClusterAuth> {
  const env = options.env ?? process.env;
  const tokenPath = options.tokenPath ?? `${SERVICE_ACCOUNT_DIR}/token`;
  const caPath = options.caPath ?? `${SERVICE_ACCOUNT_DIR}/ca.crt`;
  let server = options.server;
  if (!server) {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT;
    if (!host || !port) {
      throw new ClusterAuthError(
        "not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set, and no server was given",
      );
    }
    server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  }
  let ca: Buffer;
  try {
    ca = await readFile(caPath);
  } catch (error) {
    throw new ClusterAuthError(
      `cannot read the cluster CA at ${caPath}: ${(error as Error).message}`,
      { cause: error },
    );
  }

  let token = "";
  let version = "";
  const load = async (force: boolean): Promise<boolean> => {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(tokenPath);
    } catch (error) {
      throw new ClusterAuthError(
        `cannot read the ServiceAccount token at ${tokenPath}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const current = `${info.mtimeMs}:${info.size}:${info.ino}`;
    if (!force && current === version) return false;
    const previous = token;
    token = (await readFile(tokenPath, "utf8")).trim();
    version = current;
    return token !== previous;
  };
  await load(true);

  return {
    server,
    tls: { ca },
    description: `the ServiceAccount token at ${tokenPath}`,
    async headers(): Promise<Record<string, string>> {
      await load(false);
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
    refresh: () => load(true),
  };
}
