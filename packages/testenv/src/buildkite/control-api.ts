import { type EmulatedJob, isTerminal, type JobSpec, type JobView } from "./emulated-job.js";
import type { DeliveryTarget } from "./event-delivery.js";
import { parseJsonObject } from "./http-io.js";
import { type Route, route } from "./router.js";
import { type EmulatorState, mark } from "./state.js";

/**
 * The emulator's control API: what a test (or `npm start`, or curl) does in Buildkite's
 * place. Over HTTP on the emulator's own port, without a token, JSON in and out:
 *
 * | route | body -> answer |
 * |---|---|
 * | POST `/control/jobs` | a `JobSpec` (`{command, queue?, agentQueryRules?, priority?, label?, stepKey?, pipelineSlug?, organizationSlug?, env?}`) -> 201 job view |
 * | GET `/control/jobs` | -> job views, oldest first |
 * | GET `/control/jobs/:id` | -> `{id, state, exitStatus, log, timeline: [{at, event, detail?}], agentQueryRules, queue, priority, agent, env}` |
 * | POST `/control/jobs/:id/cancel` | -> job view: `canceled` if no agent had it, `canceling` if one runs it (422 when over) |
 * | GET `/control/requests` | -> every request so far `[{at, event, status}]` |
 * | POST `/control/throttle` | `{count, retryAfterSeconds}`: the next `count` Stacks API requests answer 429 |
 * | POST `/control/failures` | `{count, status}`: the next `count` Stacks API requests answer `status` (a 5xx; 422 otherwise) |
 * | POST `/control/stalls` | `{count, ms}`: the next `count` Stacks API requests answer only after `ms` milliseconds |
 * | POST `/control/queues/:key/pause` | `{paused}` (true by default): pauses or resumes dispatch for the cluster queue `key` -> `{key, paused}` |
 * | POST `/control/deliveries` | a webhook target `{kind: "webhook", url, token, signed?}` to send "Job Scheduled" to |
 */

/** What the control routes drive: the emulator's in-process methods. */
export interface Controls {
  createJob(spec: JobSpec): string;
  job(id: string): JobView;
  jobs(): readonly JobView[];
  cancel(id: string): JobView;
  requests(): readonly unknown[];
  throttle(count: number, retryAfterSeconds: number): void;
  failStacks(count: number, status: number): void;
  stallStacks(count: number, ms: number): void;
  failMetrics(count: number, status: number): void;
  pauseQueue(queueKey: string, paused: boolean): void;
  deliverTo(target: DeliveryTarget): void;
}

/**
 * Cancels `job` as Buildkite does: one no agent holds yet ends `canceled`; one an agent
 * accepted or runs becomes `canceling` until the agent, polling the job's state, stops
 * it and finishes (then `canceled`). Returns false when the job is already over.
 *
 * @example
 * cancelJob(state, job); // true; job.state is "canceled" or "canceling"
 */
export function cancelJob(state: EmulatorState, job: EmulatedJob): boolean {
  if (isTerminal(job)) return false;
  if (job.state === "canceling") return true;
  const held = job.state === "accepted" || job.state === "running";
  job.state = held ? "canceling" : "canceled";
  job.reservation = undefined;
  mark(state, job, job.state);
  return true;
}

/** A `JobSpec` from a JSON body, or a message saying what is wrong with it. */
function specOf(body: Buffer): JobSpec | string {
  const spec = parseJsonObject(body);
  if (typeof spec.command !== "string") return "command (a string) is required";
  const rules = spec.agentQueryRules;
  if (rules !== undefined && !(Array.isArray(rules) && rules.every((r) => typeof r === "string"))) {
    return "agentQueryRules must be an array of strings";
  }
  if (spec.env !== undefined && (typeof spec.env !== "object" || spec.env === null)) {
    return "env must be an object of strings";
  }
  return spec as unknown as JobSpec;
}

/**
 * The control API's routes (below `/control/`) over `controls`.
 *
 * @example
 * // curl -X POST -d '{"command":"echo hi","queue":"linux"}' http://127.0.0.1:PORT/control/jobs
 */
export function controlRoutes(controls: Controls): Route[] {
  const known = (id: string) => controls.jobs().some((job) => job.id === id);
  return [
    route("POST jobs", "none", ({ body, answer }) => {
      const spec = specOf(body);
      if (typeof spec === "string") return answer(422, { message: spec });
      answer(201, controls.job(controls.createJob(spec)));
    }),
    route("GET jobs", "none", ({ answer }) => answer(200, controls.jobs())),
    route("GET jobs/:id", "none", ({ params, answer }) => {
      const id = params.id ?? "";
      if (!known(id)) return answer(404, { message: "No job found" });
      answer(200, controls.job(id));
    }),
    route("POST jobs/:id/cancel", "none", ({ params, answer }) => {
      const id = params.id ?? "";
      if (!known(id)) return answer(404, { message: "No job found" });
      const before = controls.job(id).state;
      const after = controls.cancel(id);
      if (after.state === before && before !== "canceling") {
        return answer(422, { message: `Job is ${before} and cannot be cancelled` });
      }
      answer(200, after);
    }),
    route("GET requests", "none", ({ answer }) => answer(200, controls.requests())),
    route("POST throttle", "none", ({ body, answer }) => {
      const { count, retryAfterSeconds } = parseJsonObject(body);
      controls.throttle(Number(count ?? 1), Number(retryAfterSeconds ?? 1));
      answer(200, {});
    }),
    route("POST failures", "none", ({ body, answer }) => {
      const { count, status } = parseJsonObject(body);
      const code = Number(status ?? 503);
      if (!Number.isInteger(code) || code < 500 || code > 599) {
        return answer(422, { message: "status must be a 5xx (use /control/throttle for 429)" });
      }
      controls.failStacks(Number(count ?? 1), code);
      answer(200, {});
    }),
    route("POST stalls", "none", ({ body, answer }) => {
      const { count, ms } = parseJsonObject(body);
      const delay = Number(ms);
      if (!Number.isFinite(delay) || delay < 0) {
        return answer(422, { message: "ms (milliseconds, >= 0) is required" });
      }
      controls.stallStacks(Number(count ?? 1), delay);
      answer(200, {});
    }),
    route("POST queues/:key/pause", "none", ({ params, body, answer }) => {
      const { paused } = parseJsonObject(body);
      if (paused !== undefined && typeof paused !== "boolean") {
        return answer(422, { message: "paused must be a boolean" });
      }
      const key = params.key ?? "";
      controls.pauseQueue(key, paused ?? true);
      answer(200, { key, paused: paused ?? true });
    }),
    route("POST deliveries", "none", ({ body, answer }) => {
      const target = parseJsonObject(body);
      if (target.kind !== "webhook" || typeof target.url !== "string") {
        return answer(422, { message: 'only {kind: "webhook", url, token, signed?} over HTTP' });
      }
      controls.deliverTo({
        kind: "webhook",
        url: target.url,
        token: String(target.token ?? ""),
        signed: target.signed === true,
      });
      answer(200, {});
    }),
  ];
}
