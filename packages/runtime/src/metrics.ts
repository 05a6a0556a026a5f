import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import packageJson from "../package.json" with { type: "json" };

/**
 * What a long-running entry point exports on /metrics, with prom-client (the Prometheus
 * client for Node). The scheduler records every event's outcome; an adapter records the
 * requests it turns away before scheduling (unauthorized, too large, not JSON).
 */
export interface SchedulerMetrics {
  /** Counts one event (or refused request) and how long it took. */
  record(outcome: string, seconds: number): void;
  /** Counts requests to the API server beyond the first. */
  retried(count: number): void;
  /** The text of /metrics, and its content type. */
  text(): Promise<string>;
  readonly contentType: string;
}

/** How {@link createMetrics} names and labels what it exports. */
export interface MetricsOptions {
  /** Before the names of our own metrics (not the process's standard ones). */
  readonly prefix?: string;
  /** The `version` label of `build_info`; this package's version by default. */
  readonly version?: string;
}

/**
 * prom-client's gauges whose names end in `_total`, which Prometheus keeps for counters
 * (`promtool check metrics` refuses them; prometheus/client_js#283). Their grouped
 * companions stay: `sum(nodejs_active_handles)` is the same number.
 */
const TOTAL_GAUGES = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/**
 * A registry with the process's default metrics under their standard names
 * (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`...), so the usual
 * dashboards and alerts find them, and ours, prefixed: events, schedule duration,
 * submit retries, and `build_info{version,node_version} 1`.
 *
 * @example
 * const metrics = createMetrics();
 * metrics.record("created", 0.012);
 * await metrics.text(); // "# HELP process_cpu_user_seconds_total ..."
 */
export function createMetrics(options: MetricsOptions = {}): SchedulerMetrics {
  const prefix = options.prefix ?? "ondemand_eks_";
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of TOTAL_GAUGES) registry.removeSingleMetric(name);
  new Gauge({
    name: `${prefix}build_info`,
    help: "Always 1: the version of ondemand-eks and of Node.js this process runs.",
    labelNames: ["version", "node_version"],
    registers: [registry],
  }).set({ version: options.version ?? packageJson.version, node_version: process.version }, 1);
  const events = new Counter({
    name: `${prefix}events_total`,
    help: "Events handled, by outcome (created, exists, dry-run, ignored, invalid, failed; and for webhooks unauthorized, too-large, ping).",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}schedule_duration_seconds`,
    help: "Time from receiving an event to its outcome.",
    labelNames: ["outcome"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const retries = new Counter({
    name: `${prefix}submit_retries_total`,
    help: "Requests to the API server beyond the first, over all submissions.",
    registers: [registry],
  });
  return {
    record(outcome, seconds) {
      events.inc({ outcome });
      duration.observe({ outcome }, seconds);
    },
    retried: (count) => retries.inc(count),
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
