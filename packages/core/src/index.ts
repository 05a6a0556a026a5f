/**
 * `@ondemand-eks/core`: the pure heart of ondemand-eks. It turns a Buildkite "Job
 * Scheduled" event and a pod definition into the Kubernetes Job that runs it, with no
 * I/O of its own: no files, no network, no clock.
 *
 * The root holds what an embedder of the scheduling path uses: parse, route, render,
 * schedule, settings, errors, and the builders. Subpaths hold the rest:
 * `@ondemand-eks/core/events` (the event schemas), `@ondemand-eks/core/manifest` (the
 * builders with the Kubernetes types and label rules),
 * `@ondemand-eks/core/pod-definition` (the definition schema and its checks) and
 * `@ondemand-eks/core/config` (the settings table and its loader).
 *
 * Every name here is a decision: `tests/public-api.test.ts` lists them all.
 *
 * @module
 */
export {
  ERROR_CODES,
  type ErrorCode,
  formatIssues,
  hasErrorCode,
  InvalidEventError,
  InvalidPodDefinitionError,
  InvalidSettingsError,
  type Issue,
  isOndemandEksError,
  OndemandEksError,
  UnknownPodDefinitionError,
} from "./errors.js";
export {
  type EventForm,
  type FinishedJob,
  type ParsedEvent,
  type ParseEventOptions,
  parseEvent,
  type Result,
  type ScheduledJob,
  safeParseEvent,
} from "./events/index.js";
export { type AdmissionCandidate, type AdmissionInput, admit } from "./lifecycle/admission.js";
export { type JobLike, type ObservedJob, observeJob } from "./lifecycle/observe.js";
export {
  type PassAction,
  type PassInput,
  type PassLimits,
  type PassPlan,
  planPass,
  type QueueListing,
} from "./lifecycle/plan.js";
export {
  type ContainerStatusLike,
  type PodLike,
  type StartFailure,
  type StartFailureLimits,
  type StartFailureReason,
  startFailureOf,
} from "./lifecycle/start-failure.js";
export type { LogFields, Logger } from "./logger.js";
export {
  ANNOTATIONS,
  type BuildDeploymentOptions,
  type BuildJobOptions,
  buildDeployment,
  buildJob,
  type DeploymentManifest,
  type JobManifest,
  LABELS,
} from "./manifest/index.js";
export {
  definePodDefinition,
  type LongPolling,
  type PodDefinition,
  type PodDefinitionInput,
  type PoolScaling,
  parsePodDefinition,
  safeParsePodDefinition,
} from "./pod-definition/index.js";
export {
  desiredReplicas,
  type QueueDepth,
  type ScaleDecision,
  type ScaleState,
  STALE_METRICS_MS,
} from "./pools/index.js";
export {
  type Disposition,
  dispositionOf,
  type ScheduleOutcome,
  type SubmitOutcome,
} from "./scheduling/outcome.js";
export {
  type PodDefinitionLookup,
  type RenderEventOptions,
  type RenderedEvent,
  renderEvent,
  renderParsedEvent,
} from "./scheduling/render-event.js";
export { type Route, routeJob } from "./scheduling/route.js";
export { sampleManifest } from "./scheduling/sample-manifest.js";
export { type ScheduleDependencies, schedule } from "./scheduling/schedule.js";
export {
  DEFAULT_SETTINGS,
  resolveSettings,
  type SchedulerSettings,
  type SchedulerSettingsInput,
} from "./settings.js";
