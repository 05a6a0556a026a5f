import { readFile } from "node:fs/promises";
import {
  type ControlPlaneState,
  type Moto,
  startMoto,
  startTestControlPlane,
} from "@ondemand-eks/testenv";
import { BenchJobs } from "./cluster.js";
import { daemonPid } from "./cpu.js";
import { inCluster } from "./in-cluster.js";
import type { Servers } from "./paths.js";

/** What a bench run works against. */
export interface BenchServers {
  readonly servers: Servers;
  readonly jobs: BenchJobs;
  readonly state: ControlPlaneState;
  readonly moto: Moto;
}

/**
 * Where the paths send their work, the processes whose CPU time is counted, and how the
 * adapters reach the cluster: in-cluster, as deployed, where this machine allows it.
 */
async function serversOf(state: ControlPlaneState, moto: Moto): Promise<Servers> {
  const pod = await inCluster({
    kubeconfig: state.kubeconfig,
    server: state.server,
    caPem: await readFile(state.pki.caCert, "utf8"),
    dir: state.dir,
    account: "ondemand-eks-scheduler",
  });
  return {
    kubeconfig: state.kubeconfig,
    sqsEndpoint: moto.endpoint,
    ...(pod ? { inCluster: pod } : {}),
    pids: {
      bench: process.pid,
      "kube-apiserver": daemonPid(state.dir, "kube-apiserver"),
      etcd: daemonPid(state.dir, "etcd"),
      moto: daemonPid(moto.dir, "moto"),
    },
  };
}

/**
 * Starts a control plane of the bench's own (no controller manager, so no Pods) and moto,
 * runs `run` against them, and stops both however it ends.
 */
export async function withServers<T>(run: (bench: BenchServers) => Promise<T>): Promise<T> {
  const plane = await startTestControlPlane("bench", { controllerManager: false });
  let moto: Moto | undefined;
  try {
    if (!plane.state) throw new Error(`the bench needs Go: ${plane.info.reason}`);
    // Without Python this throws, saying so.
    moto = await startMoto("bench");
    const servers = await serversOf(plane.state, moto);
    const jobs = new BenchJobs(servers.kubeconfig);
    return await run({ servers, jobs, state: plane.state, moto });
  } finally {
    await moto?.stop();
    await plane.teardown();
  }
}
