/**
 * `@ondemand-eks/core`: the pure heart of ondemand-eks. It turns a Buildkite "Job
 * Scheduled" event and a pod definition into the Kubernetes Job that runs it, with no
 * I/O of its own: no files, no network, no clock.
 *
 * Subpath entries hold the same pieces for smaller imports: `@ondemand-eks/core/events`
 * and `@ondemand-eks/core/manifest`.
 *
 * @module
 */
export * from "./errors.js";
export * from "./events/index.js";
export { cloneJson, defineOwn } from "./manifest/clone.js";
export * from "./manifest/index.js";
export {
  deploymentName,
  isDnsLabel,
  isPodDefinitionName,
  jobName,
  POD_DEFINITION_NAME_MAX,
} from "./names.js";
export * from "./pod-definition/index.js";
export type { Result } from "./result.js";
export * from "./rules/agent-query-rules.js";
export type {
  PodDefinitionLookup,
  RenderEventOptions,
  RenderedEvent,
} from "./scheduling/render-event.js";
export { renderEvent, renderParsedEvent } from "./scheduling/render-event.js";
export { type Route, routeJob } from "./scheduling/route.js";
export {
  SAMPLE_JOB_UUID,
  sampleManifest,
  sampleScheduledJob,
} from "./scheduling/sample-manifest.js";
export {
  type ScheduleDependencies,
  type ScheduleOutcome,
  type SubmitResult,
  schedule,
} from "./scheduling/schedule.js";
export * from "./settings.js";
export {
  SETTING_VARIABLES,
  type SettingVariable,
  setSettingAt,
  settingsFromEnvironment,
} from "./settings-env.js";
export { fromZodIssues, joinPath, zodErrorMap } from "./zod-issues.js";
