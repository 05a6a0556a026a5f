import { randomUUID } from "node:crypto";
import { type EmulatedJob, stateOf } from "./emulated-job.js";
import { parseJsonObject } from "./http-io.js";
import { matches } from "./matching.js";
import { type Route, type RouteContext, route } from "./router.js";
import { currentJobOf, type EmulatedAgent, type EmulatorState, isoNow, mark } from "./state.js";

/**
 * The agent API (`/v3/...`) as buildkite-agent v3.137.0 calls it (`api/agents.go`,
 * `api/pings.go`, `api/jobs.go`, `api/chunks.go`, `api/meta_data.go`): register,
 * connect, ping (which offers a long-polling agent a matching job), accept or acquire,
 * start, log chunks, job state (which the agent polls to notice a cancellation), finish,
 * disconnect.
 */

/** Seconds between pings and between job state polls; the agent's own defaults are longer. */
const PING_INTERVAL = 1;
const JOB_STATUS_INTERVAL = 1;

/** The job a ping offers `agent`: scheduled, unreserved, matching, highest priority first. */
function nextJobFor(state: EmulatorState, agent: EmulatedAgent): EmulatedJob | undefined {
  if (agent.ignoreInDispatches || currentJobOf(state, agent)) return undefined;
  const now = state.now();
  return [...state.jobs.values()]
    .filter((job) => stateOf(job, now) === "scheduled" && matches(job.agentQueryRules, agent.tags))
    .sort((a, b) => b.priority - a.priority || a.sequence - b.sequence)[0];
}

/** The job as `accept` and `acquire` answer it: env, command, and the job's own token. */
function jobAnswer(state: EmulatorState, job: EmulatedJob): Record<string, unknown> {
  return {
    id: job.id,
    endpoint: `${state.origin}/v3`,
    state: job.state,
    env: job.env,
    step: { command: job.env.BUILDKITE_COMMAND },
    token: job.token,
    chunks_max_size_bytes: 102_400,
    chunks_interval_seconds: 1,
    log_max_size_bytes: 1_048_576,
    runnable_at: job.scheduledAt.toISOString(),
    priority: job.priority,
  };
}

/** Gives `job` to the agent that called, with the calling agent's id and name in its env. */
function take(state: EmulatorState, job: EmulatedJob, context: RouteContext): void {
  const agent = state.agents.get(context.token ?? "");
  job.state = "accepted";
  job.agentToken = agent?.accessToken;
  job.agentName = agent?.name;
  job.env.BUILDKITE_AGENT_ID = agent?.id ?? "";
  job.env.BUILDKITE_AGENT_NAME = agent?.name ?? "";
  mark(state, job, `accepted by ${agent?.name}`);
  context.answer(200, jobAnswer(state, job));
}

/** A handler for routes under `jobs/:job`, given the job (the dispatcher checked it exists). */
type JobHandler = (job: EmulatedJob, context: RouteContext) => void;

/**
 * The agent API's routes over `state`.
 *
 * @example
 * const routes = agentApiRoutes(state); // handed to the emulator's dispatcher
 */
export function agentApiRoutes(state: EmulatorState): Route[] {
  const withJob =
    (handler: JobHandler) =>
    (context: RouteContext): void => {
      const job = state.jobs.get(context.params.job ?? "");
      if (job) handler(job, context);
      else context.answer(404, { message: "No job found" });
    };
  const ok = (context: RouteContext) => context.answer(200, {});
  const agentOf = (context: RouteContext) => state.agents.get(context.token ?? "");

  return [
    route("POST register", "registration", ({ body, answer }) => {
      const registration = parseJsonObject(body);
      const tags = Array.isArray(registration.meta_data) ? registration.meta_data.map(String) : [];
      const agent: EmulatedAgent = {
        id: randomUUID(),
        name: String(registration.name || "emulated-agent"),
        accessToken: `agent-${randomUUID()}`,
        tags,
        ignoreInDispatches: registration.ignore_in_dispatches === true,
        connected: false,
      };
      state.agents.set(agent.accessToken, agent);
      answer(200, {
        id: agent.id,
        name: agent.name,
        access_token: agent.accessToken,
        endpoint: `${state.origin}/v3`,
        request_headers: {},
        ping_interval: PING_INTERVAL,
        job_status_interval: JOB_STATUS_INTERVAL,
        heartbeat_interval: 60,
        meta_data: tags,
      });
    }),
    route("POST connect", "agent", (context) => {
      const agent = agentOf(context);
      if (agent) agent.connected = true;
      ok(context);
    }),
    route("POST disconnect", "agent", (context) => {
      const agent = agentOf(context);
      if (agent) agent.connected = false;
      ok(context);
    }),
    route("POST heartbeat", "agent", ({ body, answer }) =>
      answer(200, { sent_at: parseJsonObject(body).sent_at, received_at: isoNow(state) }),
    ),
    route("GET ping", "agent", (context) => {
      const agent = agentOf(context);
      const job = agent && nextJobFor(state, agent);
      if (!agent || !job) return context.answer(200, { action: "idle" });
      job.state = "assigned";
      job.agentToken = agent.accessToken;
      job.agentName = agent.name;
      mark(state, job, `assigned to ${agent.name}`);
      context.answer(200, { job: { id: job.id, state: job.state } });
    }),
    route(
      "PUT jobs/:job/acquire",
      "agent",
      withJob((job, context) => {
        const current = stateOf(job, state.now());
        if (current !== "scheduled" && current !== "reserved") {
          return context.answer(422, { message: `Job is ${current} and cannot be acquired` });
        }
        take(state, job, context);
      }),
    ),
    route(
      "PUT jobs/:job/accept",
      "agent",
      withJob((job, context) => {
        if (job.state !== "assigned" || job.agentToken !== context.token) {
          const message = `Job is ${stateOf(job, state.now())} and not assigned to this agent`;
          return context.answer(422, { message });
        }
        take(state, job, context);
      }),
    ),
    route(
      "GET jobs/:job",
      "agent",
      withJob((job, { answer }) => answer(200, { state: stateOf(job, state.now()) })),
    ),
    route(
      "PUT jobs/:job",
      "agent",
      withJob((job, { answer }) => answer(200, { id: job.id })),
    ),
    route(
      "PUT jobs/:job/start",
      "agent",
      withJob((job, { answer }) => {
        if (job.state === "accepted") job.state = "running";
        mark(state, job, "running");
        answer(200, {});
      }),
    ),
    route(
      "POST jobs/:job/chunks",
      "agent",
      withJob((job, { url, body, answer }) => {
        const sequence = Number(url.searchParams.get("sequence"));
        job.chunks.set(sequence, { offset: Number(url.searchParams.get("offset")), data: body });
        answer(201, {});
      }),
    ),
    route("POST jobs/:job/header_times", "agent", ok),
    route(
      "PUT jobs/:job/finish",
      "agent",
      withJob((job, context) => {
        const finish = parseJsonObject(context.body);
        job.exitStatus = Number(finish.exit_status ?? -1);
        if (typeof finish.signal_reason === "string") job.signalReason = finish.signal_reason;
        mark(state, job, `finished with exit status ${job.exitStatus}`);
        job.state = job.state === "canceling" ? "canceled" : "finished";
        if (job.state === "canceled") mark(state, job, "canceled");
        const agent =
          agentOf(context) ??
          [...state.agents.values()].find((candidate) => candidate.accessToken === job.agentToken);
        if (agent && finish.ignore_agent_in_dispatches === true) agent.ignoreInDispatches = true;
        ok(context);
      }),
    ),
    ...metaDataRoutes(state),
  ];
}

/** `buildkite-agent meta-data set/get/exists/keys`, in one store for every build. */
function metaDataRoutes({ metaData }: EmulatorState): Route[] {
  const keyOf = (body: Buffer) => String(parseJsonObject(body).key);
  return [
    route("POST jobs/:job/data/set", "agent", ({ body, answer }) => {
      const { key, value } = parseJsonObject(body);
      metaData.set(String(key), String(value));
      answer(200, {});
    }),
    route("POST jobs/:job/data/exists", "agent", ({ body, answer }) =>
      answer(200, { exists: metaData.has(keyOf(body)) }),
    ),
    route("POST jobs/:job/data/get", "agent", ({ body, answer }) => {
      const value = metaData.get(keyOf(body));
      if (value === undefined) answer(404, { message: "No meta-data with that key" });
      else answer(200, { value });
    }),
    route("POST jobs/:job/data/keys", "agent", ({ answer }) => answer(200, [...metaData.keys()])),
  ];
}
