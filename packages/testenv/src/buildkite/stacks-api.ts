import { randomUUID } from "node:crypto";
import { type EmulatedJob, isTerminal, stateOf } from "./emulated-job.js";
import { parseJsonObject } from "./http-io.js";
import { queueOf } from "./matching.js";
import { type Route, type RouteContext, route } from "./router.js";
import { type EmulatedStack, type EmulatorState, isoNow, mark } from "./state.js";

/**
 * The Stacks API (`/v3/token`, `/v3/stacks/...`, cluster token), in the shapes of
 * Buildkite's Go client `buildkite/stacksapi` (`register.go`, `scheduled_jobs.go`,
 * `get_job.go`, `get_job_states.go`, `finish.go`, `stack_notification.go`) and the
 * agent's `api/token.go`. Errors answer `{message}` as the client expects.
 *
 * Emulator choices the client does not pin down: a page holds 50 jobs unless `limit`
 * says otherwise; jobs are listed highest priority first, then oldest; a reservation
 * lasts 300 s unless `reservation_expiry_seconds` says otherwise, and only a stack of
 * the job's queue can take it; `finish` without `exit_status` records -1, and answers 422 once the job is over
 * or an agent holds it. `finish` crops nothing: stacksapi (finish.go) crops `detail` to
 * 4 KiB on the client's side.
 */

const DEFAULT_PAGE_SIZE = 50;
const DEFAULT_RESERVATION_SECONDS = 300;

/** An opaque cursor for the job after which a page starts. */
function cursorOf(job: EmulatedJob): string {
  return Buffer.from(`${job.priority}:${job.sequence}`).toString("base64url");
}

/** The `[priority, sequence]` a cursor holds, or undefined when it is not one of ours. */
function parseCursor(cursor: string): [number, number] | undefined {
  const match = /^(-?\d+):(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** A job as `scheduled-jobs` lists it. */
function listed(job: EmulatedJob): Record<string, unknown> {
  return {
    id: job.id,
    priority: job.priority,
    agent_query_rules: job.agentQueryRules,
    scheduled_at: job.scheduledAt.toISOString(),
    pipeline: { slug: job.env.BUILDKITE_PIPELINE_SLUG, uuid: job.env.BUILDKITE_PIPELINE_ID },
    build: {
      uuid: job.env.BUILDKITE_BUILD_ID,
      number: Number(job.env.BUILDKITE_BUILD_NUMBER),
      branch: job.env.BUILDKITE_BRANCH,
    },
    step: { key: job.env.BUILDKITE_STEP_KEY ?? "" },
  };
}

/** The `job_uuids` of a request body, as strings. */
function jobUuids(body: Buffer): string[] {
  const uuids = parseJsonObject(body).job_uuids;
  return Array.isArray(uuids) ? uuids.map(String) : [];
}

/** A handler for routes under `stacks/:stack`, given the registered stack. */
type StackHandler = (stack: EmulatedStack, context: RouteContext) => void;

/**
 * The Stacks API's routes over `state`.
 *
 * @example
 * const routes = stacksApiRoutes(state); // handed to the emulator's dispatcher
 */
export function stacksApiRoutes(state: EmulatorState): Route[] {
  const withStack =
    (handler: StackHandler) =>
    (context: RouteContext): void => {
      const stack = state.stacks.get(context.params.stack ?? "");
      if (stack) handler(stack, context);
      else context.answer(404, { message: "Stack not found" });
    };
  const stackRoute = (spec: string, handler: StackHandler) =>
    route(spec, "cluster", withStack(handler));
  const { organization } = state;

  return [
    route("GET token", "cluster", ({ answer }) =>
      answer(200, {
        uuid: randomUUID(),
        description: "Buildkite emulator cluster token",
        organization_slug: organization.slug,
        organization_uuid: organization.uuid,
        cluster_uuid: organization.clusterUuid,
        cluster_name: organization.clusterName,
      }),
    ),
    route("POST stacks/register", "cluster", ({ body, answer }) => {
      const request = parseJsonObject(body);
      const [key, type, queueKey] = [request.key, request.type, request.queue_key];
      if (typeof key !== "string" || typeof type !== "string" || typeof queueKey !== "string") {
        return answer(422, { message: "key, type and queue_key are required" });
      }
      const stack: EmulatedStack = {
        id: state.stacks.get(key)?.id ?? randomUUID(),
        key,
        type,
        queueKey,
        metadata: (request.metadata ?? {}) as Record<string, unknown>,
        state: "connected",
        lastConnectedOn: isoNow(state),
      };
      state.stacks.set(key, stack);
      answer(200, {
        id: stack.id,
        organization_uuid: organization.uuid,
        cluster_queue_key: queueKey,
        key,
        type,
        metadata: stack.metadata,
        last_connected_on: stack.lastConnectedOn,
        state: stack.state,
      });
    }),
    stackRoute("POST stacks/:stack/deregister", (stack, { answer }) => {
      stack.state = "disconnected";
      answer(200, {});
    }),
    stackRoute("GET stacks/:stack/scheduled-jobs", (_stack, { url, answer }) => {
      const queueKey = url.searchParams.get("queue_key");
      if (!queueKey) return answer(422, { message: "queue_key is required" });
      const limit = Number(url.searchParams.get("limit") ?? DEFAULT_PAGE_SIZE);
      const after = url.searchParams.get("after");
      const start = after ? parseCursor(after) : undefined;
      if (after && !start) return answer(422, { message: "after is not a valid cursor" });
      const now = state.now();
      const jobs = [...state.jobs.values()]
        .filter((job) => stateOf(job, now) === "scheduled")
        .filter((job) => queueOf(job.agentQueryRules) === queueKey)
        .sort((a, b) => b.priority - a.priority || a.sequence - b.sequence)
        .filter(
          (job) =>
            !start ||
            job.priority < start[0] ||
            (job.priority === start[0] && job.sequence > start[1]),
        );
      const page = jobs.slice(0, Math.max(1, limit));
      const last = page.at(-1);
      answer(200, {
        jobs: page.map(listed),
        // A paused queue's jobs are still listed, flagged `paused`: stacksapi's
        // scheduled_jobs.go returns `cluster_queue.paused` beside the page of jobs and
        // filters nothing, and agent-stack-k8s (api/agent_client.go, reserver.go,
        // limiter.go `Pause`) keeps the listed jobs and stops reserving and starting them
        // itself. No Buildkite document says the list empties while paused.
        cluster_queue: { id: queueIdOf(state, queueKey), paused: state.pausedQueues.has(queueKey) },
        page_info: {
          has_next_page: jobs.length > page.length,
          end_cursor: last ? cursorOf(last) : "",
        },
      });
    }),
    stackRoute("PUT stacks/:stack/scheduled-jobs/batch-reserve", (stack, { body, answer }) => {
      const seconds = Number(
        parseJsonObject(body).reservation_expiry_seconds ?? DEFAULT_RESERVATION_SECONDS,
      );
      const [reserved, notReserved] = [[] as string[], [] as string[]];
      for (const id of jobUuids(body)) {
        const job = state.jobs.get(id);
        const free = job && stateOf(job, state.now()) === "scheduled";
        if (!job || !free || queueOf(job.agentQueryRules) !== stack.queueKey) {
          notReserved.push(id);
          continue;
        }
        job.reservation = { stackKey: stack.key, expiresAt: state.now() + seconds * 1000 };
        const until = new Date(job.reservation.expiresAt).toISOString();
        mark(state, job, `reserved by ${stack.key}`, `until ${until}`);
        reserved.push(id);
      }
      answer(200, { reserved, not_reserved: notReserved });
    }),
    ...jobRoutes(state, stackRoute),
  ];
}

/** A stable id for each cluster queue key, made on first use. */
function queueIdOf(state: EmulatorState, queueKey: string): string {
  const id = state.clusterQueues.get(queueKey) ?? randomUUID();
  state.clusterQueues.set(queueKey, id);
  return id;
}

/** The Stacks API's routes about one job or a batch of jobs. */
function jobRoutes(
  state: EmulatorState,
  stackRoute: (spec: string, handler: StackHandler) => Route,
): Route[] {
  return [
    stackRoute("GET stacks/:stack/jobs/:uuid", (_stack, { params, answer }) => {
      const job = state.jobs.get(params.uuid ?? "");
      if (!job) return answer(404, { message: "Job not found" });
      answer(200, { id: job.id, env: job.env, command: job.env.BUILDKITE_COMMAND });
    }),
    stackRoute("POST stacks/:stack/jobs/get-states", (_stack, { body, answer }) => {
      const states: Record<string, string> = {};
      for (const id of jobUuids(body)) {
        const job = state.jobs.get(id);
        if (job) states[id] = stateOf(job, state.now());
      }
      answer(200, { states });
    }),
    stackRoute("POST stacks/:stack/jobs/:uuid/finish", (stack, { params, body, answer }) => {
      const job = state.jobs.get(params.uuid ?? "");
      if (!job) return answer(404, { message: "Job not found" });
      if (isTerminal(job)) return answer(422, { message: `Job is already ${job.state}` });
      // A stack may finish a job only while no agent has it. agent-stack-k8s
      // (internal/controller/scheduler/pod_watcher.go) calls FinishJob only for a job in
      // `scheduled` or `reserved`, sends a notification instead once an agent holds it
      // (`assigned`, `accepted`, `running`), and reads a failed finish as "maybe the job
      // was acquired by an agent in the meantime". Buildkite's status for that is not
      // documented; the emulator answers 422 as for a job that is over.
      const current = stateOf(job, state.now());
      if (current !== "scheduled" && current !== "reserved") {
        return answer(422, { message: `Job is ${current} and cannot be finished by a stack` });
      }
      const request = parseJsonObject(body);
      job.exitStatus = Number(request.exit_status ?? -1);
      job.signalReason = "stack_error";
      mark(state, job, `stack error from ${stack.key}`, String(request.detail ?? ""));
      mark(state, job, `finished with exit status ${job.exitStatus}`);
      job.state = "finished";
      job.reservation = undefined;
      answer(200, {});
    }),
    stackRoute("POST stacks/:stack/notifications", (stack, { body, answer }) => {
      const notifications = parseJsonObject(body).notifications;
      const missing: number[] = [];
      const items: unknown[] = Array.isArray(notifications) ? notifications : [];
      for (const [index, item] of items.entries()) {
        const { job_uuid: uuid, detail, timestamp } = (item ?? {}) as Record<string, unknown>;
        const job = state.jobs.get(String(uuid));
        if (!job) {
          missing.push(index);
          continue;
        }
        const at = typeof timestamp === "string" ? new Date(timestamp) : new Date(state.now());
        const when = Number.isNaN(at.getTime()) ? isoNow(state) : at.toISOString();
        const event = `notification from ${stack.key}`;
        job.timeline.push({ at: when, event, detail: String(detail ?? "") });
      }
      answer(200, { errors: missing.length ? [{ error: "Job not found", indexes: missing }] : [] });
    }),
  ];
}
