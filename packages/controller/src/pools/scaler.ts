import {
  buildDeployment,
  desiredReplicas,
  type Logger,
  type PodDefinition,
  type PoolScaling,
  type QueueDepth,
  type ScaleState,
  type SchedulerSettings,
  STALE_METRICS_MS,
} from "@ondemand-eks/core";
import { type ClusterApi, ClusterApiError } from "@ondemand-eks/submitter";
import { deploymentPath, isOurs, type StoredDeployment } from "./deployments.js";
import type { QueueMetrics } from "./queue-metrics.js";

/** A scaled pool's last decision: what the KEDA endpoint serves. */
export interface PoolDesired {
  readonly queue: string;
  /** What spec.replicas should be (steps and cool-downs applied). */
  readonly replicas: number;
  /** The demand in pods, within the pool's bounds, before steps and cool-downs. */
  readonly wanted: number;
  /** When the metrics it was decided from were read, epoch ms: stale after {@link STALE_METRICS_MS}. */
  readonly at: number;
}

/** Where the scaler reports what it decided and did (the controller's metrics). */
export interface PoolScalerObserver {
  /** Every scaled pool's desired replicas, replacing the previous ones. */
  poolReplicas(replicas: ReadonlyMap<string, number>): void;
  /** A change of a pool's spec.replicas. */
  poolScaled(pool: string, direction: "out" | "in"): void;
}

export interface PoolScalerOptions {
  readonly api: ClusterApi;
  /** Buildkite's queue metrics (a {@link QueueMetricsClient}). */
  readonly metrics: { read(): Promise<QueueMetrics> };
  readonly settings: SchedulerSettings;
  readonly log: Logger;
  /**
   * Write the decisions (default true). False: decide only, for the KEDA endpoint,
   * while KEDA or an HPA sets the replicas (`--pool-scaling off`).
   */
  readonly apply?: boolean;
  readonly observer?: PoolScalerObserver;
  /** Deadline of each API call. Default the client's. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** What one round did to one pool. */
export interface PoolScaleResult {
  readonly pool: string;
  readonly action: "scaled" | "unchanged" | "frozen" | "skipped";
  readonly from?: number;
  readonly to?: number;
  readonly reason: string;
}

/**
 * Scales the pools whose definition has `scaling`, one round per {@link PoolScaler.scale}
 * call (the controller calls it every `--pool-interval-seconds` while it leads): reads
 * the queue metrics (at most every 10 s, see QueueMetricsClient), reads each pool's
 * Deployment for its replicas now, decides with the core's `desiredReplicas`, and
 * merge-patches spec.replicas when it should change.
 *
 * Stale or unreadable metrics freeze every pool as it is (never a guess), said once per
 * streak. Replicas are written with a JSON merge patch of the Deployment rather than the
 * scale subresource (one RBAC rule less) or an apply (replicas our apply owned would be
 * reset by the next apply that left them out); the pools' apply never carries them.
 * The cool-down state (last scale out, last scale in) is kept in memory: a new leader
 * starts without it, so its first decision may move at once.
 *
 * @example
 * ```ts
 * const scaler = new PoolScaler({ api, metrics: new QueueMetricsClient({ endpoint, token }), settings, log });
 * await scaler.scale(library.definitions()); // every 10 s while leading
 * scaler.desired().get("linux-pool"); // { queue: "linux", replicas: 3, wanted: 5, at: 1764650000000 }
 * ```
 */
export class PoolScaler {
  readonly #options: PoolScalerOptions;
  readonly #now: () => number;
  readonly #state = new Map<string, Omit<ScaleState, "current">>();
  readonly #desired = new Map<string, PoolDesired>();
  /** Why scaling is frozen, while it is: said once when the streak starts. */
  #frozen: string | undefined;

  constructor(options: PoolScalerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Each scaled pool's last decision, by definition name. */
  desired(): ReadonlyMap<string, PoolDesired> {
    return this.#desired;
  }

  /** Forgets the cool-down state: for a replica that stopped leading. */
  reset(): void {
    this.#state.clear();
  }

  /** One round over `definitions` (the whole library; only scaled pools are touched). */
  async scale(definitions: readonly PodDefinition[]): Promise<PoolScaleResult[]> {
    const pools = definitions.filter(
      (definition): definition is PodDefinition & { longPolling: { scaling: PoolScaling } } =>
        definition.mode === "long-polling" && definition.longPolling?.scaling !== undefined,
    );
    const names = new Set(pools.map((pool) => pool.name));
    for (const name of [...this.#desired.keys()]) {
      if (!names.has(name)) {
        this.#desired.delete(name);
        this.#state.delete(name);
      }
    }
    if (pools.length === 0) {
      this.#report();
      return [];
    }
    const metrics = await this.#readMetrics();
    const results: PoolScaleResult[] = [];
    for (const pool of pools) {
      if (typeof metrics === "string") {
        results.push({ pool: pool.name, action: "frozen", reason: metrics });
        continue;
      }
      try {
        results.push(await this.#scaleOne(pool, metrics));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.#options.log.warn("pool not scaled", { pool: pool.name, error: reason });
        results.push({ pool: pool.name, action: "skipped", reason });
      }
    }
    this.#report();
    return results;
  }

  /** The metrics, or why scaling is frozen (logged once per streak). */
  async #readMetrics(): Promise<QueueMetrics | string> {
    const { log } = this.#options;
    let reason: string;
    try {
      const metrics = await this.#options.metrics.read();
      const age = this.#now() - metrics.at;
      if (age <= STALE_METRICS_MS) {
        if (this.#frozen !== undefined) log.info("pool scaling resumed: queue metrics read again");
        this.#frozen = undefined;
        return metrics;
      }
      reason = `the queue metrics are ${Math.round(age / 1000)} s old (stale after ${STALE_METRICS_MS / 1000} s)`;
    } catch (error) {
      reason = `the queue metrics could not be read: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (this.#frozen === undefined) {
      log.warn("pool scaling frozen: replicas left as they are", { reason });
    }
    this.#frozen = reason;
    return reason;
  }

  async #scaleOne(
    pool: PodDefinition & { longPolling: { scaling: PoolScaling } },
    metrics: QueueMetrics,
  ): Promise<PoolScaleResult> {
    const { api, settings, log } = this.#options;
    const call =
      this.#options.timeoutMs === undefined ? {} : { timeoutMs: this.#options.timeoutMs };
    const { scaling, queue } = pool.longPolling;
    const { name, namespace } = buildDeployment({ definition: pool, settings }).metadata;
    const path = deploymentPath(namespace, name);
    let deployment: StoredDeployment;
    try {
      deployment = await api.get<StoredDeployment>(path, call);
    } catch (error) {
      if (error instanceof ClusterApiError && error.status === 404) {
        return {
          pool: pool.name,
          action: "skipped",
          reason: `no Deployment ${namespace}/${name} yet`,
        };
      }
      throw error;
    }
    if (!isOurs(deployment)) {
      return {
        pool: pool.name,
        action: "skipped",
        reason: `Deployment ${namespace}/${name} is not ours`,
      };
    }
    // Kubernetes defaults an absent spec.replicas to 1.
    const current = deployment.spec?.replicas ?? 1;
    const depth: QueueDepth = metrics.queues.get(queue) ?? emptyDepth(metrics.at);
    const now = this.#now();
    const state = { current, ...this.#state.get(pool.name) };
    const decision = desiredReplicas(depth, scaling, state, now);
    this.#desired.set(pool.name, {
      queue,
      replicas: decision.replicas,
      wanted: decision.wanted,
      at: metrics.at,
    });
    if (decision.replicas === current || this.#options.apply === false) {
      return {
        pool: pool.name,
        action: "unchanged",
        from: current,
        to: current,
        reason: decision.reason,
      };
    }
    await api.patch(path, { spec: { replicas: decision.replicas } }, call);
    const direction = decision.replicas > current ? "out" : "in";
    this.#state.set(pool.name, {
      ...this.#state.get(pool.name),
      ...(direction === "out" ? { lastScaleOutAt: now } : { lastScaleInAt: now }),
    });
    this.#options.observer?.poolScaled(pool.name, direction);
    log.info(`pool scaled ${direction}`, {
      pool: pool.name,
      deployment: `${namespace}/${name}`,
      from: current,
      to: decision.replicas,
      reason: decision.reason,
    });
    return {
      pool: pool.name,
      action: "scaled",
      from: current,
      to: decision.replicas,
      reason: decision.reason,
    };
  }

  #report(): void {
    const replicas = new Map([...this.#desired].map(([pool, desired]) => [pool, desired.replicas]));
    this.#options.observer?.poolReplicas(replicas);
  }
}

/** A queue the metrics do not list: no jobs and no agents. */
function emptyDepth(at: number): QueueDepth {
  return { scheduled: 0, running: 0, waiting: 0, idleAgents: 0, busyAgents: 0, totalAgents: 0, at };
}
