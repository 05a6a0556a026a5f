import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CoordinationV1Api,
  CoreV1Api,
  type Informer,
  KubeConfig,
  makeInformer,
  type V1Pod,
} from "@kubernetes/client-node";
import { apiConfigSource } from "./environment.js";
import { registerNode, removeNode, renewLease, reportNodeStatus, type TestNode } from "./nodes.js";
import { PodRunner, type PodTimes } from "./pod-runner.js";

/**
 * A kubelet for tests: it registers Nodes, and runs each Pod the scheduler binds to them
 * as host processes (pod-runner.ts), writing Pod status so the Job controller completes
 * or fails Jobs. It can fail pods the ways real nodes fail them: image pull errors and
 * invalid image names (images.ts), missing configuration (environment.ts), an OOM kill,
 * a container that exits early, a node lost.
 *
 * @module
 */

export interface TestKubeletOptions {
  /** An admin kubeconfig of the control plane (the kubelet reads Secrets and writes status). */
  readonly kubeconfig: string;
  readonly nodes: readonly TestNode[];
  /** The real buildkite-agent (`ensureBuildkiteAgent()`), run for the agent image. */
  readonly agentPath: string;
  /** Images whose pull fails with ErrImagePull, besides any on a `.invalid` registry. */
  readonly unpullable?: (image: string) => boolean;
  /** Where pods' directories go; a new temporary directory by default, removed on close. */
  readonly dir?: string;
  readonly log?: (line: string) => void;
}

export interface TestKubelet {
  readonly nodes: readonly string[];
  /** Kills a running container as the OOM killer would (exit 137, `OOMKilled`). */
  oomKill(namespace: string, pod: string, container: string): boolean;
  /** The node stops renewing its Lease, and its processes die without a word to the API. */
  loseNode(name: string): Promise<void>;
  /** When the kubelet saw the pod bound and started each of its containers. */
  podTimes(namespace: string, pod: string): PodTimes | undefined;
  /** A container's output so far ("" when unknown). */
  containerLog(namespace: string, pod: string, container: string): Promise<string>;
  /** Stops every pod's processes, and removes the Nodes and the pods' directories. */
  close(): Promise<void>;
  /** SIGKILL to every pod's processes at once, for a process about to exit (sync). */
  killAll(): void;
}

const HEARTBEAT_MS = 2000;
/** The node's status is posted every 5 heartbeats (10 s, a real kubelet's default). */
const STATUS_EVERY_BEATS = 5;

/**
 * Registers the nodes and starts running the pods bound to them.
 *
 * @example
 * const kubelet = await startTestKubelet({ kubeconfig, agentPath, nodes: [{ name: "ec2-a" }] });
 * // ... create a Job; its pod runs, and the Job completes
 * await kubelet.close();
 */
export async function startTestKubelet(options: TestKubeletOptions): Promise<TestKubelet> {
  const config = new KubeConfig();
  config.loadFromFile(options.kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const coordination = config.makeApiClient(CoordinationV1Api);
  const log = options.log ?? (() => undefined);
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "kubelet-")));
  const live = new Set<string>();
  const runners = new Map<string, PodRunner>();
  const context = {
    core,
    source: apiConfigSource(core),
    agentPath: options.agentPath,
    dir,
    unpullable: options.unpullable,
    log,
  };

  for (const node of options.nodes) {
    await registerNode(core, node);
    await renewLease(coordination, node.name);
    live.add(node.name);
  }
  let beats = 0;
  const heartbeat = setInterval(() => {
    beats++;
    for (const node of options.nodes) {
      if (!live.has(node.name)) continue;
      const name = node.name;
      renewLease(coordination, name).catch((error) => log(`lease ${name}: ${String(error)}`));
      if (beats % STATUS_EVERY_BEATS === 0) {
        reportNodeStatus(core, node).catch((error) => log(`status ${name}: ${String(error)}`));
      }
    }
  }, HEARTBEAT_MS);

  const keyOf = (pod: V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const mine = (pod: V1Pod) => live.has(pod.spec?.nodeName ?? "");
  const seen = (pod: V1Pod) => {
    if (!mine(pod)) return;
    const runner = runners.get(keyOf(pod));
    if (runner && runner.uid === pod.metadata?.uid) return runner.update(pod);
    // A pod re-created under the same name (a missed delete): the old one's end.
    if (runner) void runner.abandon();
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") return;
    if (pod.metadata?.deletionTimestamp) {
      const { name = "", namespace = "" } = pod.metadata;
      void core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => {});
      return;
    }
    const fresh = new PodRunner(pod, context);
    runners.set(keyOf(pod), fresh);
    void fresh.run();
  };
  const gone = (pod: V1Pod) => {
    const runner = runners.get(keyOf(pod));
    if (runner?.uid !== pod.metadata?.uid) return;
    runners.delete(keyOf(pod));
    void runner?.abandon().then(() => rm(runner.podDir, { recursive: true, force: true }));
  };

  const informer: Informer<V1Pod> = makeInformer(config, "/api/v1/pods", () =>
    core.listPodForAllNamespaces(),
  );
  let closing = false;
  let restart: NodeJS.Timeout | undefined;
  informer.on("add", seen);
  informer.on("update", seen);
  informer.on("delete", gone);
  informer.on("error", (error) => {
    if (closing) return;
    log(`pod watch: ${String(error)}; restarting`);
    restart = setTimeout(() => {
      if (!closing) void informer.start().catch(() => undefined);
    }, 1000);
  });
  await informer.start();

  return {
    nodes: options.nodes.map((node) => node.name),
    oomKill: (namespace, pod, container) =>
      runners.get(`${namespace}/${pod}`)?.oomKill(container) ?? false,
    async loseNode(name) {
      live.delete(name);
      const lost = [...runners.entries()].filter(([, runner]) => runner.nodeName === name);
      await Promise.all(lost.map(([, runner]) => runner.abandon()));
    },
    podTimes: (namespace, pod) => runners.get(`${namespace}/${pod}`)?.times,
    containerLog: async (namespace, pod, container) =>
      (await runners.get(`${namespace}/${pod}`)?.logOf(container)) ?? "",
    killAll() {
      for (const runner of runners.values()) runner.killNow();
    },
    async close() {
      closing = true;
      clearTimeout(restart);
      clearInterval(heartbeat);
      live.clear();
      await informer.stop();
      await Promise.all([...runners.values()].map((runner) => runner.abandon()));
      for (const node of options.nodes) {
        await removeNode(core, coordination, node.name).catch((e) => log(String(e)));
      }
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
