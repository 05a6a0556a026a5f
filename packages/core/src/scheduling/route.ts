import type { ScheduledJob } from "../events/types.js";
import { parseAgentQueryRules, podDefinitionOf, queueOf } from "../rules/agent-query-rules.js";
import type { SchedulerSettings } from "../settings.js";

/** Where a scheduled job goes: a queue and pod definition we serve, or nowhere, with why. */
export type Route =
  | { readonly kind: "schedule"; readonly queue: string; readonly podDefinition: string }
  | { readonly kind: "ignored"; readonly reason: string };

/**
 * Decides, once, whether this scheduler serves a job, and with which pod definition; the
 * builders take this decision (`buildJob`'s `queue`) rather than read the rules again.
 *
 * The queue is decided before the pod rule is read: a job for another fleet's queue is
 * that fleet's business, whatever its pod rule says. Rules that give two queues throw
 * {@link InvalidEventError} on any queue; an invalid or conflicting pod rule throws only
 * on a served one.
 *
 * @example
 * ```ts
 * routeJob(job, resolveSettings({ queues: ["default"] }));
 * // { kind: "schedule", queue: "default", podDefinition: "node-postgres" }
 * ```
 */
export function routeJob(job: ScheduledJob, settings: SchedulerSettings): Route {
  const rules = parseAgentQueryRules(job.agentQueryRules);
  const queue = queueOf(rules);
  if (!settings.queues.includes(queue)) {
    return {
      kind: "ignored",
      reason: `queue ${JSON.stringify(queue)} is not served here (serving: ${settings.queues.join(", ")})`,
    };
  }
  return {
    kind: "schedule",
    queue,
    podDefinition: podDefinitionOf(rules) ?? settings.defaultPodDefinition,
  };
}
