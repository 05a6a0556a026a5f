import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type EmulatedJob,
  type JobSpec,
  type JobView,
  newJob,
  type TimelineEntry,
  viewOf,
} from "./emulated-job.js";
import { parseJsonObject, readBody, sendJson, tokenOf } from "./http-io.js";

/**
 * A local stand-in for Buildkite's agent API (`.../v3`) that the real `buildkite-agent`
 * accepts in one-shot mode (`start --acquire-job <uuid>`): register, connect, acquire,
 * start, log chunks, finish, disconnect. Jobs live in memory; every request is recorded,
 * and one the emulator does not know is answered 404 and marked, so a failing test shows
 * what the agent asked for.
 *
 * @module
 */

export interface BuildkiteEmulatorOptions {
  /** The agent (registration) token `register` accepts. */
  agentToken: string;
  /** The loopback port to listen on; a free one by default. */
  port?: number;
}

/** One request the emulator answered: route, status, and a note for unknown routes. */
export interface EmulatorRequest extends TimelineEntry {
  readonly status: number;
}

export interface BuildkiteEmulator {
  /** The agent API's base, `http://127.0.0.1:<port>/v3`, for `--endpoint`. */
  readonly url: string;
  /** Schedules a job; returns its id, for `--acquire-job`. */
  createJob(spec: JobSpec): string;
  /** The job's state, exit status, log and timeline; throws for an unknown id. */
  job(id: string): JobView;
  /** Every request so far, in order (unknown routes say so). */
  requests(): readonly EmulatorRequest[];
  close(): Promise<void>;
}

type Handler = (context: RouteContext) => void;

interface RouteContext {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly url: URL;
  readonly body: Buffer;
  readonly job: EmulatedJob | undefined;
  answer(status: number, body: unknown): void;
}

const now = () => new Date().toISOString();

/**
 * Starts the emulator on a loopback port.
 *
 * @example
 * const buildkite = await startBuildkiteEmulator({ agentToken: "secret" });
 * const id = buildkite.createJob({ command: "echo hello" });
 * // buildkite-agent start --acquire-job ${id} --endpoint ${buildkite.url} --token secret ...
 * buildkite.job(id); // { state: "finished", exitStatus: 0, log: "...hello...", ... }
 * await buildkite.close();
 */
export async function startBuildkiteEmulator(
  options: BuildkiteEmulatorOptions,
): Promise<BuildkiteEmulator> {
  const jobs = new Map<string, EmulatedJob>();
  /** The registered agents by access token. */
  const agents = new Map<string, { id: string; name: string }>();
  const metaData = new Map<string, string>();
  const log: EmulatorRequest[] = [];
  let origin = "";

  const mark = (job: EmulatedJob, event: string) => job.timeline.push({ at: now(), event });
  const ok: Handler = ({ answer }) => answer(200, {});

  /** Routes under /v3/ by `METHOD path`, where `:job` is a job id. */
  const routes: Record<string, Handler> = {
    "POST register": ({ body, answer }) => {
      const registration = parseJsonObject(body);
      const accessToken = `agent-${randomUUID()}`;
      const agent = { id: randomUUID(), name: String(registration.name || "emulated-agent") };
      agents.set(accessToken, agent);
      answer(200, {
        id: agent.id,
        name: agent.name,
        access_token: accessToken,
        endpoint: `${origin}/v3`,
        request_headers: {},
        ping_interval: 1,
        job_status_interval: 1,
        heartbeat_interval: 60,
        meta_data: registration.meta_data ?? [],
      });
    },
    "POST connect": ok,
    "POST disconnect": ok,
    "POST heartbeat": ({ body, answer }) =>
      answer(200, { sent_at: parseJsonObject(body).sent_at, received_at: now() }),
    "GET ping": ({ answer }) => answer(200, { action: "idle" }),
    "PUT jobs/:job/acquire": ({ request, job, answer }) => {
      if (!job) return answer(404, { message: "No job found" });
      if (job.state !== "scheduled") {
        return answer(422, { message: `Job is ${job.state} and cannot be acquired` });
      }
      const agent = agents.get(tokenOf(request) ?? "");
      job.state = "accepted";
      job.env.BUILDKITE_AGENT_ID = agent?.id ?? "";
      job.env.BUILDKITE_AGENT_NAME = agent?.name ?? "";
      mark(job, `accepted by ${agent?.name}`);
      answer(200, acquired(job, origin));
    },
    "GET jobs/:job": ({ job, answer }) => answer(200, { state: job?.state }),
    "PUT jobs/:job": ({ job, answer }) => answer(200, { id: job?.id }),
    "PUT jobs/:job/start": ({ job, body, answer }) => {
      if (!job) return;
      job.state = "running";
      job.startedAt = String(parseJsonObject(body).started_at ?? now());
      mark(job, "running");
      answer(200, {});
    },
    "POST jobs/:job/chunks": ({ job, url, body, answer }) => {
      if (!job) return;
      const sequence = Number(url.searchParams.get("sequence"));
      job.chunks.set(sequence, { offset: Number(url.searchParams.get("offset")), data: body });
      answer(201, {});
    },
    "POST jobs/:job/header_times": ok,
    "PUT jobs/:job/finish": ({ job, body, answer }) => {
      if (!job) return;
      const finish = parseJsonObject(body);
      job.state = "finished";
      job.exitStatus = Number(finish.exit_status ?? -1);
      job.signal = typeof finish.signal === "string" ? finish.signal : undefined;
      job.finishedAt = String(finish.finished_at ?? now());
      mark(job, `finished with exit status ${finish.exit_status}`);
      answer(200, {});
    },
    "POST jobs/:job/data/set": ({ body, answer }) => {
      const { key, value } = parseJsonObject(body);
      metaData.set(String(key), String(value));
      answer(200, {});
    },
    "POST jobs/:job/data/exists": ({ body, answer }) =>
      answer(200, { exists: metaData.has(String(parseJsonObject(body).key)) }),
    "POST jobs/:job/data/get": ({ body, answer }) => {
      const value = metaData.get(String(parseJsonObject(body).key));
      if (value === undefined) answer(404, { message: "No meta-data with that key" });
      else answer(200, { value });
    },
    "POST jobs/:job/data/keys": ({ answer }) => answer(200, [...metaData.keys()]),
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { message: String(error) });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", origin);
    const body = await readBody(request);
    const method = request.method ?? "GET";
    const answer = (status: number, reply: unknown, note = "") => {
      log.push({ at: now(), event: `${method} ${url.pathname}${url.search}${note}`, status });
      sendJson(response, status, reply);
    };

    const path = url.pathname.startsWith("/v3/") ? url.pathname.slice(4) : undefined;
    const jobId = /^jobs\/([^/]+)/.exec(path ?? "")?.[1];
    const route = `${method} ${path?.replace(/^jobs\/[^/]+/, "jobs/:job")}`;
    const handler = path === undefined ? undefined : routes[route];
    if (!handler) {
      return answer(
        404,
        { message: `The emulator has no route ${method} ${url.pathname}` },
        " (unknown route)",
      );
    }

    const token = tokenOf(request);
    const job = jobId === undefined ? undefined : jobs.get(decodeURIComponent(jobId));
    const allowed =
      route === "POST register"
        ? token === options.agentToken
        : token !== undefined && (agents.has(token) || token === job?.token);
    if (!allowed) return answer(401, { message: "Unauthorized" });
    if (jobId !== undefined && !job) return answer(404, { message: "No job found" });

    handler({
      request,
      response,
      url,
      body,
      job,
      answer: (status, reply) => answer(status, reply),
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${origin}/v3`,
    createJob(spec) {
      const job = newJob(spec, origin);
      jobs.set(job.id, job);
      return job.id;
    },
    job(id) {
      const job = jobs.get(id);
      if (!job) throw new Error(`the Buildkite emulator has no job ${id}`);
      return viewOf(job);
    },
    requests: () => [...log],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The acquire answer: the job, its token for the agent's later calls, and its step. */
function acquired(job: EmulatedJob, origin: string): Record<string, unknown> {
  return {
    id: job.id,
    endpoint: `${origin}/v3`,
    state: job.state,
    env: job.env,
    step: { command: job.env.BUILDKITE_COMMAND },
    token: job.token,
    chunks_max_size_bytes: 102_400,
    chunks_interval_seconds: 1,
    log_max_size_bytes: 1_048_576,
    runnable_at: now(),
    priority: 0,
  };
}
