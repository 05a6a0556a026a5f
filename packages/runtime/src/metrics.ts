import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

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

/** A registry with the process's default metrics and the scheduler's own, prefixed. */
export function createMetrics(prefix = "ondemand_eks_"): SchedulerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
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
