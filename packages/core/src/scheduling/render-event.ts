import { InvalidEventError } from "../errors.js";
import { type ParseEventOptions, parseEvent } from "../events/parse-event.js";
import type { ParsedEvent, ScheduledJob } from "../events/types.js";
import { buildJob } from "../manifest/job.js";
import type { JobManifest } from "../manifest/kubernetes.js";
import type { PodDefinition } from "../pod-definition/schema.js";
import type { SchedulerSettings } from "../settings.js";
import { routeJob } from "./route.js";

/** Finds a pod definition by name; throws `UnknownPodDefinitionError` when there is none. */
export type PodDefinitionLookup = (name: string) => PodDefinition;

export interface RenderEventOptions extends ParseEventOptions {
  readonly settings: SchedulerSettings;
  readonly lookup: PodDefinitionLookup;
}

/** A Job to submit, or the reason there is nothing to do. */
export type RenderedEvent =
  | {
      readonly kind: "job";
      readonly job: ScheduledJob;
      readonly queue: string;
      readonly definition: PodDefinition;
      readonly manifest: JobManifest;
    }
  | { readonly kind: "ignored"; readonly reason: string };

/**
 * The whole pure path from a raw event to the Job that would run it: parse, route,
 * look the definition up, build. Throws `InvalidEventError` for malformed events and
 * `UnknownPodDefinitionError` (from `lookup`) for names the library lacks.
 *
 * @example
 * ```ts
 * const rendered = renderEvent(JSON.parse(body), { settings, lookup: (name) => library.get(name) });
 * if (rendered.kind === "job") await submit(rendered.manifest);
 * ```
 */
export function renderEvent(input: unknown, options: RenderEventOptions): RenderedEvent {
  return renderParsedEvent(parseEvent(input, options), options);
}

/**
 * {@link renderEvent} for an event already parsed (so a caller can log its job UUID first).
 *
 * @example
 * ```ts
 * const event = parseEvent(input);
 * if (event.kind !== "ignored") log.info({ job: event.job.uuid });
 * const rendered = renderParsedEvent(event, { settings, lookup });
 * ```
 */
export function renderParsedEvent(
  event: ParsedEvent,
  options: Pick<RenderEventOptions, "settings" | "lookup">,
): RenderedEvent {
  if (event.kind === "ignored") return event;
  if (event.kind === "finished") {
    return { kind: "ignored", reason: `job ${event.job.uuid} has finished: nothing to schedule` };
  }
  const route = routeJob(event.job, options.settings);
  if (route.kind === "ignored") return route;
  const definition = options.lookup(route.podDefinition);
  if (definition.mode === "long-polling") {
    const queue = definition.longPolling?.queue;
    if (queue === route.queue) {
      return {
        kind: "ignored",
        reason: `pod definition "${definition.name}" is long-polling: its Deployment's agents take jobs from queue "${queue}"`,
      };
    }
    // Its agents poll another queue: nothing would ever run this job. Say so, loudly.
    throw new InvalidEventError([
      {
        path: "job.agent_query_rules",
        message: `pod definition "${definition.name}" is long-polling on queue "${queue}", but the job targets queue "${route.queue}": no agent would take it`,
      },
    ]);
  }
  const manifest = buildJob({
    job: event.job,
    queue: route.queue,
    definition,
    settings: options.settings,
  });
  return { kind: "job", job: event.job, queue: route.queue, definition, manifest };
}
