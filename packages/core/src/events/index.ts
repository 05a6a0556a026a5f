/**
 * Buildkite job events: schemas for each input form and one parser for all of them.
 *
 * @module
 */
export { type ParseEventOptions, parseEvent, safeParseEvent } from "./parse-event.js";
export * from "./schemas.js";
export type { EventForm, FinishedJob, ParsedEvent, ScheduledJob } from "./types.js";
