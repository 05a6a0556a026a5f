import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

/** Where a pod finds its ServiceAccount token and the cluster CA. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * How the adapters run as they would in a pod: `--in-cluster`, with the scheduler's
 * ServiceAccount token (least privilege, from deploy/kubernetes) and the cluster CA at
 * the path a pod has them, and KUBERNETES_SERVICE_HOST/PORT. Each adapter runs in a
 * mount namespace of its own with a tmpfs over /run (so /var/run/secrets exists only for
 * it); nothing on this machine is changed. `undefined` where that cannot be done (not
 * root, no unshare): the adapters are then given the admin kubeconfig.
 */
export interface InCluster {
  /** The command that starts `node ...args` as in a pod. */
  wrap(args: readonly string[]): { command: string; args: string[] };
  readonly env: Record<string, string>;
}

/** Whether `unshare -m` and mounts work here, tried on `true`. */
function canUnshare(): boolean {
  try {
    execFileSync("unshare", ["-m", "--propagation", "private", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export async function inCluster(
  kubeconfig: string,
  server: string,
  caPem: string,
): Promise<InCluster | undefined> {
  if (!canUnshare()) return undefined;
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const answer = await config.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: "ondemand-eks-scheduler",
    namespace: "buildkite",
    body: { spec: { audiences: [], expirationSeconds: 3_600 } },
  });
  const token = answer.status?.token;
  if (!token) throw new Error("TokenRequest for ondemand-eks-scheduler returned no token");
  const dir = await mkdtemp(join(tmpdir(), "ondemand-eks-bench-sa-"));
  // The token goes when the bench does, however it ends.
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "token"), token, { mode: 0o600 });
  await writeFile(join(dir, "ca.crt"), caPem);
  const url = new URL(server);
  // /var/run is /run on the systems this runs on; the script builds the pod's view and
  // then becomes the node process (exec), so its pid is the one measured.
  const script = [
    "set -e",
    "mount -t tmpfs bench-run /run",
    `mkdir -p ${SERVICE_ACCOUNT_DIR}`,
    `cp "$0/token" "$0/ca.crt" ${SERVICE_ACCOUNT_DIR}/`,
    'shift; exec "$@"',
  ].join("\n");
  return {
    wrap: (args) => ({
      command: "unshare",
      args: ["-m", "--propagation", "private", "sh", "-c", script, dir, "--", ...args],
    }),
    env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port || "443" },
  };
}
