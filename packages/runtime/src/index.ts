/**
 * `@ondemand-eks/runtime`: the one composition root every entry point builds on. It
 * reads an entry point's settings from the one settings table (config file, environment,
 * flags), and builds the scheduler: pod library, cluster auth, submitter, logger and
 * metrics.
 *
 * @module
 */

// Defined by the pod library, with the S3 source that throws it; re-exported as before.
export { PodLibraryUnavailableError } from "@ondemand-eks/pod-library";
export { awsCredentials } from "./aws-credentials.js";
export { type ClusterAuthOptions, clusterAuthFor } from "./cluster-auth.js";
export {
  type ClusterConfig,
  type EntryPointConfig,
  type LibraryConfig,
  type ReadConfigOptions,
  readConfig,
  type SchedulerConfig,
} from "./config.js";
export {
  directoryLibrary,
  type LibrarySourceOptions,
  librarySourceFor,
  type PodLibrarySource,
} from "./library-source.js";
export { createLogger, type LoggerOptions, silentLogger } from "./logger.js";
export type { SchedulerMetrics } from "./metrics.js";
export {
  type Attachment,
  createScheduler,
  type Scheduler,
  type SchedulerOptions,
} from "./scheduler.js";
export { LOG_LEVELS, type LogLevel, RUNTIME_SETTINGS, SETTINGS } from "./settings.js";
