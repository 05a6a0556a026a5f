/**
 * `@ondemand-eks/controller`: the lifecycle controller. It follows the Jobs ondemand-eks
 * made and talks to Buildkite's Stacks API: it schedules jobs whose events were lost, fails
 * jobs whose pods cannot start with a reason a person can act on, stops cancelled jobs,
 * and caps how many run at once. It also keeps the long-polling pools' Deployments
 * (one per long-polling definition) and scales them by queue depth.
 *
 * @module
 */

export { OUR_JOBS, readJobEvents, readJobs, type SeenJob } from "./cluster-view.js";
export { Controller, type ControllerOptions, type ControllerPools } from "./controller.js";
export {
  type ControllerFromSettingsOptions,
  checkControllerSettings,
  clusterTokenFrom,
  controllerFromSettings,
  lateEventCheck,
} from "./from-settings.js";
export { LeaderLease, type LeaseOptions } from "./lease.js";
export { type ControllerMetrics, createControllerMetrics } from "./metrics.js";
export { type PassContext, type PassReport, runPass } from "./pass.js";
export { QueueMetricsError, type QueueMetricsErrorKind } from "./pools/errors.js";
export {
  MIN_METRICS_INTERVAL_MS,
  type QueueMetrics,
  QueueMetricsClient,
  type QueueMetricsClientOptions,
} from "./pools/queue-metrics.js";
export { type PoolChange, type ReconcilePoolsOptions, reconcilePools } from "./pools/reconcile.js";
export {
  type PoolDesired,
  type PoolScaleResult,
  PoolScaler,
  type PoolScalerObserver,
  type PoolScalerOptions,
} from "./pools/scaler.js";
export { BUILDKITE_DEFAULT_ENDPOINT, CONTROLLER_SETTINGS } from "./settings.js";
export { StacksClient } from "./stacks/client.js";
export { StacksApiError, type StacksApiErrorKind } from "./stacks/errors.js";
export type {
  JobFailure,
  Reservation,
  ScheduledJobs,
  StackNotification,
  StackRegistration,
  StacksClientOptions,
  StacksIdentity,
  StacksJob,
} from "./stacks/types.js";
