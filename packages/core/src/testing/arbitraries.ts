/** The arbitraries of `@ondemand-eks/core/testing`, gathered in one object. */
import { podAccess } from "./access.js";
import { scheduledEvent } from "./events.js";
import { scheduledJob } from "./jobs.js";
import { podDefinition, podDefinitionInput } from "./pod-definitions.js";
import { poolScaling, queueDepth } from "./pools.js";
import { agentQueryRule, agentQueryRules } from "./rules.js";
import { settings, settingsInput } from "./settings.js";
import { hostileText } from "./text.js";

/**
 * fast-check arbitraries for property-testing what you build on the core: each is a
 * function of its options, returning an `fc.Arbitrary`.
 *
 * - `scheduledEvent({ queues, podDefinitions, forms })`: events in every form
 *   `parseEvent` accepts, hostile text in every user-written field, with what they say.
 * - `scheduledJob(options)`: the `ScheduledJob`s those events parse to.
 * - `agentQueryRule()`, `agentQueryRules({ queues, podDefinitions })`: rules.
 * - `podDefinition({ mode, services, privilege, names, queues, compute })` and
 *   `podDefinitionInput(...)`: valid definitions, checked or as written.
 * - `podAccess()`: access rules.
 * - `poolScaling()`, `queueDepth({ at, maxJobs })`: a scaled pool's settings, and the
 *   queue counts its scaler reads.
 * - `settings({ queues })`, `settingsInput({ queues })`: valid scheduler settings.
 * - `hostileText({ mark })`: the text itself.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { arbitraries } from "@ondemand-eks/core/testing";
 *
 * fc.assert(fc.property(arbitraries.scheduledJob(), (job) => job.uuid === job.uuid.toLowerCase()));
 * ```
 */
export const arbitraries = {
  agentQueryRule,
  agentQueryRules,
  hostileText,
  podAccess,
  podDefinition,
  podDefinitionInput,
  poolScaling,
  queueDepth,
  scheduledEvent,
  scheduledJob,
  settings,
  settingsInput,
} as const;
