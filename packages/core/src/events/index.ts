/**
 * `@ondemand-eks/core/events`: the zod schemas of each form a Buildkite job event
 * arrives in, and one parser for all of them.
 *
 * @module
 */
export type { Result } from "../result.js";
export { type ParseEventOptions, parseEvent, safeParseEvent } from "./parse-event.js";
export {
  EventBridgeEnvelopeSchema,
  JobEventDetailSchema,
  JobFinishedDetailSchema,
  WebhookJobFinishedSchema,
  WebhookJobScheduledSchema,
} from "./schemas.js";
export type { EventForm, FinishedJob, ParsedEvent, ScheduledJob } from "./types.js";
