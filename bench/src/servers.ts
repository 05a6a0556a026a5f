import { readFile } from "node:fs/promises";
import {
  type ControlPlaneState,
  type Moto,
  startTestControlPlane,
  startTestMoto,
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
  const pod = await inCluster(
    state.kubeconfig,
    state.server,
    await readFile(state.pki.caCert, "utf8"),
    state.dir,
  );
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
  const aws = await startTestMoto("bench");
  try {
    if (!plane.state || !aws.moto) {
      const why = plane.info.available ? aws.skipReason : plane.info.reason;
      throw new Error(`the bench needs Go and Python: ${why}`);
    }
    const servers = await serversOf(plane.state, aws.moto);
    const jobs = new BenchJobs(servers.kubeconfig);
    return await run({ servers, jobs, state: plane.state, moto: aws.moto });
  } finally {
    await aws.moto?.stop();
    await plane.teardown();
  }
}
