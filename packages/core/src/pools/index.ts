/**
 * Long-polling pools that follow their queue: the scaling decision and the queue counts
 * it reads.
 *
 * @module
 */
export {
  desiredReplicas,
  type QueueDepth,
  type ScaleDecision,
  type ScaleState,
  STALE_METRICS_MS,
} from "./scaling.js";
