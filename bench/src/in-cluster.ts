import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

/** Where a pod finds its ServiceAccount token and the cluster CA. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * How a process runs as it would in a pod: `--in-cluster`, with a ServiceAccount's token
 * (its own account, least privilege, from deploy/kubernetes) and the cluster CA at the
 * path a pod has them, and KUBERNETES_SERVICE_HOST/PORT. Each process runs in a mount
 * namespace of its own with a tmpfs over /run (so /var/run/secrets exists only for it);
 * nothing on this machine is changed. `undefined` where that cannot be done (not root, no
 * unshare, /var/run not /run): the process is then given the admin kubeconfig.
 */
export interface InCluster {
  /** The command that starts `node ...args` as in a pod. */
  wrap(args: readonly string[]): { command: string; args: string[] };
  readonly env: Record<string, string>;
}

/**
 * The script each adapter starts under: a tmpfs over /run, the ServiceAccount files in it,
 * then exec (so its pid is the one measured). /var/run must be /run, or the files would
 * land on the host's disk: it refuses to go on otherwise.
 */
const POD_VIEW = [
  "set -e",
  '[ "$(readlink -f /var/run)" = /run ]',
  "mount -t tmpfs bench-run /run",
  `mkdir -p ${SERVICE_ACCOUNT_DIR}`,
  `cp "$0/token" "$0/ca.crt" ${SERVICE_ACCOUNT_DIR}/`,
  'shift; exec "$@"',
].join("\n");

/** Whether this machine lets the bench build the pod's view: tried in full, on `true`. */
function canBuildPodView(dir: string): boolean {
  try {
    execFileSync(
      "unshare",
      ["-m", "--propagation", "private", "sh", "-c", POD_VIEW, dir, "--", "true"],
      {
        stdio: "ignore",
      },
    );
    return true;
  } catch {
    return false;
  }
}

/** Where the ServiceAccounts the bench runs as live (deploy/kubernetes). */
const SERVICE_ACCOUNT_NAMESPACE = "ondemand-eks";

export interface InClusterOptions {
  /** The admin kubeconfig, to ask for the account's token. */
  readonly kubeconfig: string;
  /** The API server's URL, for KUBERNETES_SERVICE_HOST/PORT. */
  readonly server: string;
  /** The cluster CA, PEM. */
  readonly caPem: string;
  /** The control plane's run directory (see below). */
  readonly dir: string;
  /** The ServiceAccount in ondemand-eks: `ondemand-eks-scheduler` for the adapters. */
  readonly account: string;
}

/**
 * The token and CA are written under `dir`, the control plane's run directory, a
 * directory per account: they go with it at teardown (or when a later run clears an
 * abandoned one), and the token is only good for that control plane's API server anyway.
 *
 * @example
 * const pod = await inCluster({ kubeconfig, server, caPem, dir, account: "ondemand-eks-controller" });
 * startCli(pod ? ["controller", "--in-cluster"] : ["controller", "--kubeconfig", kubeconfig], pod?.env ?? {}, pod?.wrap);
 */
export async function inCluster(options: InClusterOptions): Promise<InCluster | undefined> {
  const { account } = options;
  const files = join(options.dir, `bench-service-account-${account}`);
  await mkdir(files, { recursive: true });
  await writeFile(join(files, "ca.crt"), options.caPem);
  await writeFile(join(files, "token"), "", { mode: 0o600 });
  if (!canBuildPodView(files)) return undefined;
  const config = new KubeConfig();
  config.loadFromFile(options.kubeconfig);
  const answer = await config.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: account,
    namespace: SERVICE_ACCOUNT_NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: 3_600 } },
  });
  const token = answer.status?.token;
  if (!token) throw new Error(`TokenRequest for ${account} returned no token`);
  await writeFile(join(files, "token"), token, { mode: 0o600 });
  const url = new URL(options.server);
  return {
    wrap: (args) => ({
      command: "unshare",
      args: ["-m", "--propagation", "private", "sh", "-c", POD_VIEW, files, "--", ...args],
    }),
    env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port || "443" },
  };
}
