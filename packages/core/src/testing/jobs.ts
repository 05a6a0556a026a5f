/** Scheduled jobs, as `parseEvent` makes them from generated events. */
import type * as fc from "fast-check";
import { parseEvent } from "../events/parse-event.js";
import type { ScheduledJob } from "../events/types.js";
import { type ScheduledEventOptions, scheduledEvent } from "./events.js";

/**
 * A {@link ScheduledJob} parsed from a {@link scheduledEvent}: any form, hostile text in
 * every user-written field, rules targeting one of `queues`.
 *
 * @example
 * ```ts
 * fc.assert(
 *   fc.property(scheduledJob({ queues: ["default"] }), (job) => {
 *     expect(routeJob(job, settings).kind).toBe("schedule");
 *   }),
 * );
 * ```
 */
export function scheduledJob(options: ScheduledEventOptions = {}): fc.Arbitrary<ScheduledJob> {
  return scheduledEvent(options).map((event) => {
    const parsed = parseEvent(event.input, event.options);
    if (parsed.kind !== "scheduled") {
      throw new Error(`scheduledJob: a generated event parsed as ${parsed.kind}`);
    }
    return parsed.job;
  });
}
