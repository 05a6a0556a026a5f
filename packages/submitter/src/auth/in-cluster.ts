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
  /**
   * How long a token read from the file is used before the file is checked again,
   * milliseconds. Default 60,000, client-go's period for the same file.
   */
  recheckMs?: number;
  /** A monotonic clock in milliseconds, for tests. Default `performance.now`. */
  now?: () => number;
}

/**
 * Cluster auth for a process running in a pod: the ServiceAccount token the kubelet
 * mounts, and the cluster CA. Projected tokens rotate: the kubelet writes a new one at
 * 80% of the old one's lifetime (minutes before it expires), so the file is checked
 * again at most once a minute, as client-go does, and re-read when its modification time
 * or size changed; after a 401 it is re-read at once.
 *
 * Checking before every request cost a file-system round trip on each create, and in a
 * busy process (the SQS consumer starting its next receive) the create waited behind
 * whatever ran meanwhile: about 2 ms of its p50 (bench/README.md, "The SQS path's p50").
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

  const recheckMs = options.recheckMs ?? 60_000;
  const now = options.now ?? (() => performance.now());
  let token = "";
  let version = "";
  let checkedAt = 0;
  const load = async (force: boolean): Promise<boolean> => {
    checkedAt = now();
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
      if (now() - checkedAt >= recheckMs) await load(false);
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
    refresh: () => load(true),
  };
}
