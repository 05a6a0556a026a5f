import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { type BuildkiteEmulator, startBuildkiteEmulator } from "./buildkite/emulator.js";
import { ensureBuildkiteAgent } from "./buildkite-agent.js";
import { startTestKubelet, type TestKubelet } from "./kubelet/kubelet.js";
import type { TestNode } from "./kubelet/nodes.js";

/**
 * Buildkite and nodes for a local control plane: the Buildkite emulator, the agent token
 * Secret that Jobs read (`buildkite-agent-token`, key `token`, as the scheduler's
 * defaults expect), and the test kubelet with an EC2-like and a Fargate-like node, so a
 * Job the scheduler creates runs the real agent against the emulator. The end-to-end
 * tests and `npm start` build on it.
 *
 * @module
 */

export interface LocalBuildkiteOptions {
  /** An admin kubeconfig of the control plane. */
  readonly kubeconfig: string;
  /** Where Jobs are created and the token Secret goes; `buildkite` by default. */
  readonly namespace?: string;
  /** The nodes to register; {@link DEFAULT_NODES} unless given. */
  readonly nodes?: readonly TestNode[];
  /** The emulator's port; a free one by default. */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

export interface LocalBuildkite {
  readonly buildkite: BuildkiteEmulator;
  readonly kubelet: TestKubelet;
  /** The agent token the emulator accepts, also in the Secret. */
  readonly agentToken: string;
  readonly namespace: string;
  close(): Promise<void>;
}

/** An EC2 node of a managed node group, and a Fargate node (tainted, as EKS taints them). */
export const DEFAULT_NODES: readonly TestNode[] = [
  {
    name: "ec2-node-a",
    labels: {
      "eks.amazonaws.com/compute-type": "ec2",
      "node.kubernetes.io/instance-type": "m7i.xlarge",
    },
  },
  {
    name: "fargate-node-a",
    labels: { "eks.amazonaws.com/compute-type": "fargate" },
    taints: [{ key: "eks.amazonaws.com/compute-type", value: "fargate", effect: "NoSchedule" }],
  },
];

export const AGENT_TOKEN_SECRET = "buildkite-agent-token";

/**
 * Starts the emulator and the kubelet, and writes the agent token Secret.
 *
 * @example
 * const local = await startLocalBuildkite({ kubeconfig });
 * // schedule with --agent-endpoint ${local.buildkite.url}; local.buildkite.job(id).state === "finished"
 * await local.close();
 */
export async function startLocalBuildkite(options: LocalBuildkiteOptions): Promise<LocalBuildkite> {
  const namespace = options.namespace ?? "buildkite";
  const agentToken = randomBytes(18).toString("hex");
  const agentPath = await ensureBuildkiteAgent({ log: options.log });
  const config = new KubeConfig();
  config.loadFromFile(options.kubeconfig);
  await writeTokenSecret(config.makeApiClient(CoreV1Api), namespace, agentToken);
  const buildkite = await startBuildkiteEmulator({ agentToken, port: options.port });
  try {
    const kubelet = await startTestKubelet({
      kubeconfig: options.kubeconfig,
      nodes: options.nodes ?? DEFAULT_NODES,
      agentPath,
      log: options.log,
    });
    return {
      buildkite,
      kubelet,
      agentToken,
      namespace,
      async close() {
        await kubelet.close();
        await buildkite.close();
      },
    };
  } catch (error) {
    await buildkite.close();
    throw error;
  }
}

/** Creates the Secret, or replaces its token when it exists. */
async function writeTokenSecret(core: CoreV1Api, namespace: string, token: string) {
  const body = {
    metadata: { name: AGENT_TOKEN_SECRET, namespace },
    stringData: { token },
  };
  try {
    await core.createNamespacedSecret({ namespace, body });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
    await core.replaceNamespacedSecret({ name: AGENT_TOKEN_SECRET, namespace, body });
  }
}
