import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * What the controller exports on /metrics beside the scheduler's own (prom-client): the
 * Jobs running and waiting per queue as the last pass counted them from the cluster,
 * what it did, how Buildkite's Stacks API answered, and the long-polling pools' scaling.
 */
export interface ControllerMetrics {
  /** The counts of the last pass, replacing the previous ones. */
  jobs(counts: ReadonlyMap<string, { running: number; waiting: number }>): void;
  /** A Buildkite job failed because its pod could not start, by reason. */
  failedToStart(reason: string): void;
  /** A Job made by reconciliation: its event never came, or came late. */
  reconciled(queue: string): void;
  /** A Job stopped because its Buildkite job was cancelled (or ended) before an agent started. */
  cancelled(queue: string): void;
  /** One Stacks API request: `status` a HTTP status, or "error" when none came. */
  stacksRequest(call: string, status: number | "error", seconds: number): void;
  /** A pass, and whether it ran to the end. */
  pass(ok: boolean, seconds: number): void;
  /** Whether this replica holds the Lease. */
  leader(leading: boolean): void;
  /** Every scaled pool's desired replicas, by definition name, replacing the previous ones. */
  poolReplicas(replicas: ReadonlyMap<string, number>): void;
  /** A pool's spec.replicas changed by the scaler. */
  poolScaled(pool: string, direction: "out" | "in"): void;
  /** One request for Buildkite's queue metrics: `ok`, or why it failed. */
  queueMetricsRead(result: string): void;
  /** The text of these metrics (without the process's default ones). */
  text(): Promise<string>;
}

/** The controller's metrics in a registry of their own, prefixed. */
export function createControllerMetrics(prefix = "ondemand_eks_"): ControllerMetrics {
  const registers = [new Registry()];
  const [registry] = registers as [Registry];
  const running = new Gauge({
    name: `${prefix}jobs_running`,
    help: "Our Jobs not suspended and not finished, per queue, at the last pass.",
    labelNames: ["queue"],
    registers,
  });
  const waiting = new Gauge({
    name: `${prefix}jobs_waiting`,
    help: "Our Jobs suspended until capacity frees (or a paused queue resumes), per queue, at the last pass.",
    labelNames: ["queue"],
    registers,
  });
  const failed = new Counter({
    name: `${prefix}jobs_failed_to_start_total`,
    help: "Buildkite jobs failed because their pod could not start, by reason.",
    labelNames: ["reason"],
    registers,
  });
  const reconciled = new Counter({
    name: `${prefix}jobs_reconciled_total`,
    help: "Jobs made by reconciliation, for scheduled jobs whose event never came.",
    labelNames: ["queue"],
    registers,
  });
  const cancelled = new Counter({
    name: `${prefix}jobs_cancelled_total`,
    help: "Jobs stopped before an agent started, because their Buildkite job was cancelled or over.",
    labelNames: ["queue"],
    registers,
  });
  const requests = new Counter({
    name: `${prefix}stacks_api_requests_total`,
    help: "Requests to Buildkite's Stacks API, by call and HTTP status (error: no answer).",
    labelNames: ["call", "status"],
    registers,
  });
  const latency = new Histogram({
    name: `${prefix}stacks_api_request_duration_seconds`,
    help: "Time of one Stacks API request.",
    labelNames: ["call"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const passes = new Counter({
    name: `${prefix}controller_passes_total`,
    help: "Controller passes, by result (ok, or error when a read failed).",
    labelNames: ["result"],
    registers,
  });
  const passDuration = new Histogram({
    name: `${prefix}controller_pass_duration_seconds`,
    help: "Time of one controller pass.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const leading = new Gauge({
    name: `${prefix}controller_leader`,
    help: "1 when this replica holds the Lease and acts, else 0.",
    registers,
  });
  const poolReplicas = new Gauge({
    name: `${prefix}pool_replicas`,
    help: "Desired replicas of each scaled long-polling pool, at its last decision.",
    labelNames: ["pool"],
    registers,
  });
  const poolScale = new Counter({
    name: `${prefix}pool_scale_total`,
    help: "Changes of a long-polling pool's replicas by the controller, by direction (out, in).",
    labelNames: ["pool", "direction"],
    registers,
  });
  const metricsReads = new Counter({
    name: `${prefix}queue_metrics_reads_total`,
    help: "Requests for Buildkite's queue metrics, by result (ok, unauthorized, unavailable, invalid).",
    labelNames: ["result"],
    registers,
  });
  return {
    jobs(counts) {
      running.reset();
      waiting.reset();
      for (const [queue, count] of counts) {
        running.set({ queue }, count.running);
        waiting.set({ queue }, count.waiting);
      }
    },
    failedToStart: (reason) => failed.inc({ reason }),
    reconciled: (queue) => reconciled.inc({ queue }),
    cancelled: (queue) => cancelled.inc({ queue }),
    stacksRequest(call, status, seconds) {
      requests.inc({ call, status: String(status) });
      latency.observe({ call }, seconds);
    },
    pass(ok, seconds) {
      passes.inc({ result: ok ? "ok" : "error" });
      passDuration.observe(seconds);
    },
    leader: (yes) => leading.set(yes ? 1 : 0),
    poolReplicas(replicas) {
      poolReplicas.reset();
      for (const [pool, count] of replicas) poolReplicas.set({ pool }, count);
    },
    poolScaled: (pool, direction) => poolScale.inc({ pool, direction }),
    queueMetricsRead: (result) => metricsReads.inc({ result }),
    text: () => registry.metrics(),
  };
}
