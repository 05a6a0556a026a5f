/**
 * How AWS Fargate sizes a pod: from its CPU and memory requests, rounded up to the next
 * vCPU and memory combination Fargate offers, after adding the memory its own Kubernetes
 * components take. The figures are the EKS user guide's ("Understand Fargate Pod
 * configuration details").
 */

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** A pod's or a container's CPU (cores) and memory (bytes). */
export interface PodSize {
  readonly cpu: number;
  readonly memory: number;
}

/** Memory Fargate adds to every pod for the kubelet, kube-proxy and containerd. */
export const FARGATE_OVERHEAD_MEMORY = 256 * MiB;

/** GiB steps from `from` to `to`. */
function range(from: number, to: number, step: number): number[] {
  return Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
}

/** The vCPU and memory combinations Fargate offers, smallest first. */
export const FARGATE_SIZES: readonly PodSize[] = [
  { cpu: 0.25, memoryGiB: [0.5, 1, 2] },
  { cpu: 0.5, memoryGiB: range(1, 4, 1) },
  { cpu: 1, memoryGiB: range(2, 8, 1) },
  { cpu: 2, memoryGiB: range(4, 16, 1) },
  { cpu: 4, memoryGiB: range(8, 30, 1) },
  { cpu: 8, memoryGiB: range(16, 60, 4) },
  { cpu: 16, memoryGiB: range(32, 120, 8) },
].flatMap(({ cpu, memoryGiB }) => memoryGiB.map((gib) => ({ cpu, memory: gib * GiB })));

/** The largest pod Fargate runs: 16 vCPU and 120 GiB, its components' memory included. */
export const FARGATE_MAX: PodSize = { cpu: 16, memory: 120 * GiB };

/**
 * The Fargate size a pod with these requests gets: the combination with the fewest vCPUs,
 * then the least memory, that holds the requests plus {@link FARGATE_OVERHEAD_MEMORY};
 * `undefined` when none does. A pod that requests nothing gets the smallest, 0.25 vCPU
 * and 0.5 GiB.
 *
 * @example
 * ```ts
 * fargateSize({ cpu: 1, memory: 8 * 2 ** 30 }); // { cpu: 2, memory: 9 GiB }: 8 GiB + 256 MiB fits no 1-vCPU size
 * ```
 */
export function fargateSize(requests: PodSize): PodSize | undefined {
  const memory = requests.memory + FARGATE_OVERHEAD_MEMORY;
  return FARGATE_SIZES.find((size) => size.cpu >= requests.cpu && size.memory >= memory);
}

/** One container of a pod, in pod order, with what it requests. */
export interface SizedContainer {
  /** `main`: a regular container; `sidecar`: an init container that keeps running. */
  readonly kind: "init" | "sidecar" | "main";
  readonly requests: PodSize;
}

/**
 * What a pod requests as a whole, as Kubernetes counts it with native sidecars (and
 * Fargate with it): the larger of what its longest-running set needs (every sidecar and
 * main container together) and what any init container needs while it runs (itself and
 * the sidecars started before it). Taken per resource.
 *
 * @example
 * ```ts
 * podRequests([{ kind: "sidecar", requests: db }, { kind: "main", requests: agent }]); // db + agent
 * ```
 */
export function podRequests(containers: readonly SizedContainer[]): PodSize {
  let sidecars = { cpu: 0, memory: 0 };
  let init = { cpu: 0, memory: 0 };
  let main = { cpu: 0, memory: 0 };
  const add = (a: PodSize, b: PodSize) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory });
  const max = (a: PodSize, b: PodSize) => ({
    cpu: Math.max(a.cpu, b.cpu),
    memory: Math.max(a.memory, b.memory),
  });
  for (const container of containers) {
    if (container.kind === "main") {
      main = add(main, container.requests);
      continue;
    }
    init = max(init, add(sidecars, container.requests));
    if (container.kind === "sidecar") sidecars = add(sidecars, container.requests);
  }
  return max(init, add(sidecars, main));
}
