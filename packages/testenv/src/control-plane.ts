import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { applyManifests } from "./apply.js";
import { type Binaries, ensureBinaries, type Log } from "./binaries.js";
import { runningPid, startDaemon, stopDaemon, stopDaemons } from "./daemon.js";
import { DaemonStartError } from "./errors.js";
import { DEPLOY_DIR } from "./paths.js";
import { createPki, type Pki } from "./pki.js";
import { freePort, portFreed } from "./ports.js";

const START_ORDER = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
] as const;

/** What a started control plane looks like; saved as state.json in its directory. */
export interface ControlPlaneState {
  dir: string;
  server: string;
  kubeconfig: string;
  ports: { etcd: number; etcdPeer: number; apiserver: number };
  etcdName: string;
  pki: Pki;
  binaries: Binaries;
  controllerManager: boolean;
  /** More kube-apiserver flags (a token webhook, say), kept for restarts. */
  extraApiserverArgs: string[];
}

export interface StartOptions {
  /** Directory for data, certificates, logs and pid files; its processes are stopped and its contents removed first. */
  dir: string;
  log: Log;
  /**
   * Run kube-controller-manager (Jobs get Pods) and kube-scheduler (Pods get Nodes, by
   * their selectors, affinity, tolerations and resources). Default true.
   */
  controllerManager?: boolean;
  /** Apply deploy/kubernetes/base/ once the API is ready. Default true. */
  applyDeploy?: boolean;
  /** More kube-apiserver flags, such as --authentication-token-webhook-config-file. */
  apiserverArgs?: string[];
}

export const stateFile = (dir: string) => join(dir, "state.json");

export async function readState(dir: string): Promise<ControlPlaneState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(dir), "utf8")) as ControlPlaneState;
  } catch {
    return undefined;
  }
}

/**
 * Starts etcd, kube-apiserver and (by default) kube-controller-manager and
 * kube-scheduler on loopback
 * ports, with RBAC and service-account tokens, and returns once `/readyz` is healthy
 * and deploy/kubernetes/base/ is applied. A port taken between choosing and binding it
 * makes a process exit; the whole start is then tried again with new ports.
 */
export async function startControlPlane(options: StartOptions): Promise<ControlPlaneState> {
  const binaries = await ensureBinaries(options.log);
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(options, binaries);
    } catch (error) {
      lastError = error;
      await stopControlPlane(options.dir);
      if (!(error instanceof DaemonStartError && error.exited)) break;
      options.log(`control plane failed to start (attempt ${attempt}): ${error.message}`);
    }
  }
  throw lastError;
}

async function startOnce(options: StartOptions, binaries: Binaries): Promise<ControlPlaneState> {
  const { dir, log } = options;
  await stopControlPlane(dir);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const pki = await createPki(join(dir, "pki"));
  const ports = { etcd: await freePort(), etcdPeer: await freePort(), apiserver: await freePort() };
  const server = `https://127.0.0.1:${ports.apiserver}`;
  // A name no other etcd has, so the health check can tell ours from a concurrent run's
  // that got the same port first.
  const etcdName = `testenv-${randomBytes(6).toString("hex")}`;
  const state: ControlPlaneState = {
    dir,
    server,
    kubeconfig: join(dir, "kubeconfig"),
    ports,
    etcdName,
    pki,
    binaries,
    controllerManager: options.controllerManager ?? true,
    extraApiserverArgs: options.apiserverArgs ?? [],
  };
  await writeFile(stateFile(dir), `${JSON.stringify(state, null, 2)}\n`);
  await writeKubeconfig(state);

  const started = Date.now();
  await startDaemon({
    dir,
    name: "etcd",
    command: binaries.etcd,
    args: etcdArgs(state),
    ready: () => etcdHealthy(ports.etcd, etcdName),
    timeoutMs: 60_000,
  });
  await startApiserver(state);
  if (state.controllerManager) {
    // No readiness probe: it is ready once it runs.
    await startDaemon({
      dir,
      name: "kube-controller-manager",
      command: binaries["kube-controller-manager"],
      args: [
        `--kubeconfig=${state.kubeconfig}`,
        "--leader-elect=false",
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.caCert}`,
        "--controllers=*",
        // A node whose kubelet stops renewing its Lease is unreachable after 10 s, not 50 s,
        // so tests of a lost node do not wait on the default.
        "--node-monitor-grace-period=10s",
        "--node-monitor-period=1s",
        // No HTTPS endpoint of its own: nothing scrapes it here.
        "--secure-port=0",
      ],
    });
    await startDaemon({
      dir,
      name: "kube-scheduler",
      command: binaries["kube-scheduler"],
      args: [`--kubeconfig=${state.kubeconfig}`, "--leader-elect=false", "--secure-port=0"],
    });
  }
  if (options.applyDeploy ?? true) await applyManifests(state, DEPLOY_DIR);
  log(`control plane ready at ${server} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return state;
}

function etcdArgs(state: ControlPlaneState): string[] {
  const client = `http://127.0.0.1:${state.ports.etcd}`;
  const peer = `http://127.0.0.1:${state.ports.etcdPeer}`;
  return [
    `--data-dir=${join(state.dir, "etcd")}`,
    `--name=${state.etcdName}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${state.etcdName}=${peer}`,
    // Test data is thrown away: skip fsync, which is most of etcd's latency on CI disks.
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
}

function apiserverArgs(state: ControlPlaneState): string[] {
  const { pki, ports } = state;
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${ports.apiserver}`,
    `--cert-dir=${join(state.dir, "pki")}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    "--authorization-mode=RBAC",
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    `--service-account-issuer=${state.server}`,
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    ...(state.extraApiserverArgs ?? []),
  ];
}

/** Starts (or restarts, after stopApiserver) the API server and waits for /readyz. */
export async function startApiserver(state: ControlPlaneState): Promise<void> {
  // After stopApiserver, the old process may hold the port for a moment longer.
  await portFreed(state.ports.apiserver);
  await startDaemon({
    dir: state.dir,
    name: "kube-apiserver",
    command: state.binaries["kube-apiserver"],
    args: apiserverArgs(state),
    ready: () => apiserverReady(state),
    timeoutMs: 120_000,
  });
}

/** Stops only the API server (etcd and its data stay), to test an outage. */
export function stopApiserver(state: ControlPlaneState, graceMs?: number): Promise<void> {
  return stopDaemon(state.dir, "kube-apiserver", graceMs);
}

/** Stops every process of the control plane in `dir` (from its pid files). Keeps the data. */
export function stopControlPlane(dir: string): Promise<void> {
  return stopDaemons(dir, START_ORDER);
}

/** Stops the control plane in `dir` and removes its directory. */
export async function destroyControlPlane(dir: string): Promise<void> {
  await stopControlPlane(dir);
  await rm(dir, { recursive: true, force: true });
}

/** Whether the control plane in `dir` is running and answers /readyz. */
export async function isHealthy(state: ControlPlaneState): Promise<boolean> {
  for (const name of START_ORDER) {
    const controller = name === "kube-controller-manager" || name === "kube-scheduler";
    if (controller && !state.controllerManager) continue;
    if ((await runningPid(state.dir, name)) === undefined) return false;
  }
  return apiserverReady(state);
}

/** Healthy, and the member answering is the one we started (by its unique name). */
async function etcdHealthy(port: number, name: string): Promise<boolean> {
  try {
    const health = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!health.ok || ((await health.json()) as { health?: string }).health !== "true") {
      return false;
    }
    const members = await fetch(`http://127.0.0.1:${port}/v3/cluster/member/list`, {
      method: "POST",
      body: "{}",
      signal: AbortSignal.timeout(2_000),
    });
    const list = (await members.json()) as { members?: { name?: string }[] };
    return members.ok && (list.members ?? []).some((member) => member.name === name);
  } catch {
    return false;
  }
}

/** GET /readyz as the admin, trusting only this control plane's CA. */
export async function apiserverReady(state: ControlPlaneState): Promise<boolean> {
  const [ca, cert, key] = await Promise.all(
    [state.pki.caCert, state.pki.adminCert, state.pki.adminKey].map((file) => readFile(file)),
  );
  return new Promise((resolve) => {
    const req = request(
      `${state.server}/readyz`,
      { ca, cert, key, timeout: 2_000, agent: false },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode === 200));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(false));
    req.end();
  });
}

/** An admin kubeconfig with everything embedded, so it can be copied anywhere. */
async function writeKubeconfig(state: ControlPlaneState): Promise<void> {
  const base64 = async (file: string) => (await readFile(file)).toString("base64");
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "ondemand-eks-testenv",
        cluster: {
          server: state.server,
          "certificate-authority-data": await base64(state.pki.caCert),
        },
      },
    ],
    users: [
      {
        name: "ondemand-eks-admin",
        user: {
          "client-certificate-data": await base64(state.pki.adminCert),
          "client-key-data": await base64(state.pki.adminKey),
        },
      },
    ],
    contexts: [
      {
        name: "ondemand-eks-testenv",
        context: {
          cluster: "ondemand-eks-testenv",
          user: "ondemand-eks-admin",
          namespace: "buildkite",
        },
      },
    ],
    "current-context": "ondemand-eks-testenv",
  };
  await writeFile(state.kubeconfig, `${JSON.stringify(kubeconfig, null, 2)}\n`, { mode: 0o600 });
}
