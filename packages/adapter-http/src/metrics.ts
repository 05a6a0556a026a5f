import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** What a long-running adapter exports on /metrics (prom-client, the Prometheus Node client). */
export interface AdapterMetrics {
  registry: Registry;
  events: Counter<"outcome">;
  duration: Histogram<"outcome">;
  retries: Counter;
}

export function createMetrics(prefix = "ondemand_eks_"): AdapterMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  return {
    registry,
    events: new Counter({
      name: `${prefix}events_total`,
      help: "Events handled, by outcome (created, exists, ignored, invalid, failed, unauthorized).",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: `${prefix}schedule_duration_seconds`,
      help: "Time from receiving an event to its outcome.",
      labelNames: ["outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    retries: new Counter({
      name: `${prefix}submit_retries_total`,
      help: "Requests to the API server beyond the first, over all submissions.",
      registers: [registry],
    }),
  };
}
