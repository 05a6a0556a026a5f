/**
 * `@ondemand-eks/controller`: the lifecycle controller. It follows the Jobs ondemand-eks
 * made and talks to Buildkite's Stacks API: it schedules jobs whose events were lost, fails
 * jobs whose pods cannot start with a reason a person can act on, stops cancelled jobs,
 * and caps how many run at once.
 *
 * @module
 */

export { OUR_JOBS, readJobEvents, readJobs, type SeenJob } from "./cluster-view.js";
export { Controller, type ControllerOptions } from "./controller.js";
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
