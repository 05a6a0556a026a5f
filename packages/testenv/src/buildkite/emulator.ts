import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { agentApiRoutes } from "./agent-api.js";
import { type Controls, cancelJob, controlRoutes } from "./control-api.js";
import { type JobSpec, type JobView, newJob, type TimelineEntry, viewOf } from "./emulated-job.js";
import { type DeliveryTarget, deliver } from "./event-delivery.js";
import { createFaults } from "./faults.js";
import { readBody, sendJson, tokenOf } from "./http-io.js";
import { webhookBody } from "./job-events.js";
import { metricsRoutes } from "./metrics.js";
import { findRoute, type Route, route } from "./router.js";
import { stacksApiRoutes } from "./stacks-api.js";
import type { EmulatorState } from "./state.js";
import { createThrottle, type StacksRateLimit } from "./throttle.js";

/**
 * A local stand-in for Buildkite that real clients accept, on one loopback port:
 *
 * - `/v3/...`: the agent API, for `buildkite-agent start` one-shot (`--acquire-job`) or
 *   long-polling (`--tags`, `--disconnect-after-job`; `--ping-mode poll-only` or the
 *   default `auto`, which falls back to polling), queue metrics (`GET /v3/metrics`), and
 *   the Stacks API (`/v3/token`, `/v3/stacks/...`, cluster token).
 * - `/control/...`: what Buildkite's users would do: create, read and cancel jobs, read
 *   the request log, throttle the Stacks API, make it fail (5xx) or stall, pause a
 *   cluster queue, add webhook targets (see control-api.ts).
 *
 * A new job's "Job Scheduled" event goes to each delivery target (webhook or EventBridge).
 * Jobs live in memory; every request is recorded, and one the emulator does not know is
 * answered 404 and marked, so a failing test shows what the client asked for.
 *
 * @module
 */

export interface BuildkiteEmulatorOptions {
  /** The agent (registration) token `register` and `metrics` accept. */
  agentToken: string;
  /** The cluster agent token the Stacks API (and `register`) accept; `agentToken` by default. */
  clusterToken?: string;
  /** The loopback port to listen on; a free one by default. */
  port?: number;
  /** The organization slug of jobs, events and metrics; `emulated` by default. */
  organizationSlug?: string;
  /** Where "Job Scheduled" goes when a job is created; more with `deliverTo`. */
  deliverTo?: readonly DeliveryTarget[];
  /** A per-stack rate limit on the Stacks API (429 with `Retry-After` beyond it). */
  stacksRateLimit?: StacksRateLimit;
  /** The clock in milliseconds (reservation expiry, timestamps); `Date.now` by default. */
  now?: () => number;
}

/** One request the emulator answered: route, status, and a note for unknown routes. */
export interface EmulatorRequest extends TimelineEntry {
  readonly status: number;
}

export interface BuildkiteEmulator {
  /** The agent API's base, `http://127.0.0.1:<port>/v3`, for `--endpoint` and stacks clients. */
  readonly url: string;
  /** The control API's base, `http://127.0.0.1:<port>/control`. */
  readonly controlUrl: string;
  /** Schedules a job and sends its "Job Scheduled" event; returns its id. */
  createJob(spec: JobSpec): string;
  /** The job's state, exit status, log and timeline; throws for an unknown id. */
  job(id: string): JobView;
  /** Every job, oldest first. */
  jobs(): readonly JobView[];
  /** Cancels a job (`canceled`, or `canceling` while an agent runs it); throws for an unknown id. */
  cancel(id: string): JobView;
  /**
   * The job's "Job Scheduled" webhook body, as it was sent when the job was created: what
   * a late redelivery (a webhook retried, an SQS message seen again) would carry.
   */
  scheduledWebhook(id: string): unknown;
  /** Sends "Job Scheduled" for every later job to `target` too. */
  deliverTo(target: DeliveryTarget): void;
  /** Resolves once every event delivery started so far has ended. */
  deliveries(): Promise<void>;
  /** Makes the next `count` Stacks API requests answer 429 with `Retry-After`. */
  throttle(count: number, retryAfterSeconds: number): void;
  /** Makes the next `count` Stacks API requests answer `status` (a 5xx, e.g. 502 or 503). */
  failStacks(count: number, status: number): void;
  /** Makes the next `count` Stacks API requests answer only after `ms` milliseconds. */
  stallStacks(count: number, ms: number): void;
  /**
   * Makes the next `count` queue-metrics requests (`GET metrics`, `GET metrics/queue`)
   * answer `status`, after their token is checked: Buildkite's metrics unavailable.
   */
  failMetrics(count: number, status: number): void;
  /**
   * Pauses (or resumes) dispatch for the cluster queue `queueKey`: `scheduled-jobs` then
   * says `cluster_queue.paused: true` and still lists the queue's jobs, as Buildkite does.
   */
  pauseQueue(queueKey: string, paused: boolean): void;
  /** Every request so far, in order (unknown routes say so). */
  requests(): readonly EmulatorRequest[];
  close(): Promise<void>;
}

/**
 * Starts the emulator on a loopback port.
 *
 * @example
 * const buildkite = await startBuildkiteEmulator({ agentToken: "secret" });
 * const id = buildkite.createJob({ command: "echo hello", queue: "linux" });
 * // buildkite-agent start --tags queue=linux --disconnect-after-job --endpoint ${buildkite.url} ...
 * buildkite.job(id); // { state: "finished", exitStatus: 0, log: "...hello...", ... }
 * await buildkite.close();
 */
export async function startBuildkiteEmulator(
  options: BuildkiteEmulatorOptions,
): Promise<BuildkiteEmulator> {
  const state: EmulatorState = {
    jobs: new Map(),
    agents: new Map(),
    stacks: new Map(),
    clusterQueues: new Map(),
    pausedQueues: new Set(),
    metaData: new Map(),
    organization: {
      slug: options.organizationSlug ?? "emulated",
      uuid: randomUUID(),
      clusterUuid: randomUUID(),
      clusterName: "Emulated cluster",
    },
    agentToken: options.agentToken,
    clusterToken: options.clusterToken ?? options.agentToken,
    now: options.now ?? Date.now,
    origin: "",
  };
  const metricsFaults = createFaults();
  const log: EmulatorRequest[] = [];
  const targets = [...(options.deliverTo ?? [])];
  const pending = new Set<Promise<void>>();
  const throttle = createThrottle(options.stacksRateLimit, state.now);
  const faults = createFaults();

  const found = (id: string) => {
    const job = state.jobs.get(id);
    if (!job) throw new Error(`the Buildkite emulator has no job ${id}`);
    return job;
  };
  const controls: Controls &
    Pick<BuildkiteEmulator, "deliveries" | "requests" | "scheduledWebhook"> = {
    createJob(spec) {
      const context = {
        webUrl: state.origin,
        organizationSlug: state.organization.slug,
        sequence: state.jobs.size,
        now: new Date(state.now()),
      };
      const job = newJob(spec, context);
      state.jobs.set(job.id, job);
      for (const target of targets) {
        const delivery = deliver(state, job, target).finally(() => pending.delete(delivery));
        pending.add(delivery);
      }
      return job.id;
    },
    job: (id) => viewOf(found(id), state.now()),
    jobs: () => [...state.jobs.values()].map((job) => viewOf(job, state.now())),
    cancel(id) {
      cancelJob(state, found(id));
      return viewOf(found(id), state.now());
    },
    scheduledWebhook: (id) => webhookBody(found(id)),
    deliverTo: (target) => void targets.push(target),
    deliveries: async () => void (await Promise.all([...pending])),
    throttle: (count, retryAfterSeconds) => throttle.refuseNext(count, retryAfterSeconds),
    failStacks: (count, status) => faults.failNext(count, status),
    stallStacks: (count, ms) => faults.stallNext(count, ms),
    failMetrics: (count, status) => metricsFaults.failNext(count, status),
    pauseQueue(queueKey, paused) {
      if (paused) state.pausedQueues.add(queueKey);
      else state.pausedQueues.delete(queueKey);
    },
    requests: () => [...log],
  };

  const apis: Record<string, readonly Route[]> = {
    "/v3/": [...agentApiRoutes(state), ...metricsRoutes(state), ...stacksApiRoutes(state)],
    "/control/": controlRoutes(controls),
    // The agent's `auto` ping mode first opens a gRPC stream here; a 404 reads as
    // `unimplemented`, which makes it fall back to polling for good (agent_worker.go).
    "/agentedge.v1.AgentEdgeService/": [
      route("POST StreamPings", "none", ({ answer }) =>
        answer(404, { message: "streaming pings are not emulated: poll GET /v3/ping" }),
      ),
    ],
  };

  /** True when `token` may call `route` (with `params`). */
  const allowed = (route: Route, token: string | undefined, params: Record<string, string>) => {
    if (route.auth === "none") return true;
    if (token === undefined) return false;
    if (route.auth === "registration")
      return token === state.agentToken || token === state.clusterToken;
    if (route.auth === "cluster") return token === state.clusterToken;
    return state.agents.has(token) || state.jobs.get(params.job ?? "")?.token === token;
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", state.origin);
    const body = await readBody(request);
    const method = request.method ?? "GET";
    const answer = (status: number, reply: unknown, headers = {}, note = "") => {
      log.push({
        at: new Date(state.now()).toISOString(),
        event: `${method} ${url.pathname}${url.search}${note}`,
        status,
      });
      sendJson(response, status, reply, headers);
    };

    const base = Object.keys(apis).find((prefix) => url.pathname.startsWith(prefix));
    const match = base && findRoute(apis[base] ?? [], method, url.pathname.slice(base.length));
    if (!match) {
      const message = `The emulator has no route ${method} ${url.pathname}`;
      return answer(404, { message }, {}, " (unknown route)");
    }
    const token = tokenOf(request);
    if (!allowed(match.route, token, match.params)) return answer(401, { message: "Unauthorized" });
    if (match.route.path.startsWith("metrics")) {
      const fault = metricsFaults.next();
      if (fault?.kind === "fail") {
        return answer(fault.status, { message: "Service unavailable" }, {}, " (failed on demand)");
      }
    }
    if (match.route.auth === "cluster") {
      const retryAfter = throttle.check(match.params.stack ?? "");
      if (retryAfter !== undefined) {
        const headers = { "retry-after": String(retryAfter) };
        return answer(429, { message: "Too many requests" }, headers, " (throttled)");
      }
      const fault = faults.next();
      if (fault?.kind === "fail") {
        return answer(fault.status, { message: "Service unavailable" }, {}, " (failed on demand)");
      }
      // A stalled request is handled normally once the delay is over, even if the client
      // gave up (as a slow server would); the timer does not keep the process alive.
      if (fault?.kind === "stall") {
        await new Promise<void>((resolve) => setTimeout(resolve, fault.ms).unref());
      }
    }
    await match.route.handle({ request, url, body, params: match.params, token, answer });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { message: String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${state.origin}/v3`,
    controlUrl: `${state.origin}/control`,
    ...controls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
