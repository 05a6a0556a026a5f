import { DEFAULT_RETRY_POLICY } from "@ondemand-eks/submitter";
import type { z } from "zod";
import { StacksApiError } from "./errors.js";
import {
  chunks,
  cropUtf8,
  FINISH_DETAIL_BYTES,
  MAX_PAGES,
  NOTIFICATION_DETAIL_BYTES,
  NOTIFY_CHUNK,
  RESERVE_CHUNK,
  STATES_CHUNK,
} from "./limits.js";
import {
  anyAnswer,
  notifyAnswer,
  reserveAnswer,
  scheduledJobsAnswer,
  statesAnswer,
  tokenAnswer,
} from "./schemas.js";
import { type StacksRequest, send, type TransportSettings } from "./transport.js";
import type {
  JobFailure,
  Reservation,
  ScheduledJobs,
  StackNotification,
  StackRegistration,
  StacksClientOptions,
  StacksIdentity,
  StacksJob,
} from "./types.js";

/** The states in which a job is over (or being cancelled): a stack cannot finish it any more. */
const ENDED = new Set([
  "finished",
  "canceled",
  "canceling",
  "skipped",
  "expired",
  "timed_out",
  "timing_out",
  "broken",
]);

/** The states in which an agent holds a job: it fails on its own, the stack only notifies. */
const HELD = new Set(["assigned", "accepted", "running"]);

const segment = encodeURIComponent;
const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A client of Buildkite's Stacks API (the cluster-token API a custom scheduler uses to
 * list, reserve and fail jobs), over `fetch`. Every method ends within `timeoutMs`:
 * 429s wait for `Retry-After`, 5xx's, connection errors and timeouts are retried with
 * jittered backoff until then, and a failure is one {@link StacksApiError}.
 *
 * @example
 * ```ts
 * const stacks = new StacksClient({ endpoint: "https://agent.buildkite.com/v3", token });
 * await stacks.register({ key: "ondemand-eks", queueKey: "linux" });
 * const { paused, jobs } = await stacks.scheduledJobs("ondemand-eks", "linux");
 * if (!paused) {
 *   const { reserved } = await stacks.reserve("ondemand-eks", jobs.map((job) => job.uuid));
 * }
 * ```
 */
export class StacksClient {
  readonly #settings: TransportSettings;
  readonly #timeoutMs: number;

  constructor(options: StacksClientOptions) {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const attemptTimeoutMs = options.attemptTimeoutMs ?? Math.min(5_000, timeoutMs);
    if (!(timeoutMs > 0) || !(attemptTimeoutMs > 0)) {
      throw new RangeError("StacksClient: timeoutMs and attemptTimeoutMs must be positive");
    }
    if (options.token.trim() === "") {
      throw new TypeError("StacksClient: the cluster token is empty (BUILDKITE_CLUSTER_TOKEN)");
    }
    this.#timeoutMs = timeoutMs;
    this.#settings = {
      endpoint: options.endpoint.replace(/\/+$/, ""),
      token: options.token,
      attemptTimeoutMs,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      fetch: options.fetch ?? globalThis.fetch,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
      sleep: options.sleep ?? sleepFor,
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    };
  }

  /** Who the cluster token belongs to: the organization and the cluster. */
  async whoami(): Promise<StacksIdentity> {
    const answer = await this.#send({ call: "whoami", method: "GET", path: "token" }, tokenAnswer);
    return {
      organizationSlug: answer.organization_slug,
      organizationUuid: answer.organization_uuid,
      clusterUuid: answer.cluster_uuid,
      ...(answer.cluster_name ? { clusterName: answer.cluster_name } : {}),
    };
  }

  /** Registers (or updates) the custom stack `stack.key` for `stack.queueKey`; idempotent. */
  async register(stack: StackRegistration): Promise<void> {
    const body = {
      key: stack.key,
      type: "custom",
      queue_key: stack.queueKey,
      metadata: stack.metadata ?? {},
    };
    await this.#send(
      { call: "register", method: "POST", path: "stacks/register", body },
      anyAnswer,
    );
  }

  /** Tells Buildkite the stack `key` is going away. */
  async deregister(key: string): Promise<void> {
    const path = `stacks/${segment(key)}/deregister`;
    await this.#send({ call: "deregister", method: "POST", path }, anyAnswer);
  }

  /**
   * Every scheduled job of the cluster queue, all pages followed, and whether the queue is
   * paused. Throws `unavailable` when the server's paging never ends (a cursor repeated,
   * or more than 1000 pages).
   */
  async scheduledJobs(
    key: string,
    queueKey: string,
    options: { pageSize?: number } = {},
  ): Promise<ScheduledJobs> {
    const { pageSize } = options;
    if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize > 0)) {
      throw new RangeError(`scheduledJobs: pageSize must be a positive integer, not ${pageSize}`);
    }
    const call = "scheduledJobs";
    const jobs = new Map<string, StacksJob>();
    const cursors = new Set<string>();
    let after: string | undefined;
    let paused = false;
    for (let page = 1; ; page += 1) {
      if (page > MAX_PAGES) {
        throw this.#paging(`it still had more after ${MAX_PAGES} pages of ${jobs.size} jobs`);
      }
      const query = { queue_key: queueKey, limit: pageSize?.toString(), after };
      const path = `stacks/${segment(key)}/scheduled-jobs`;
      const answer = await this.#send(
        // A deadline per page: a queue of 10,000 jobs is 200 pages, and a rate-limited
        // Buildkite may space them out; what bounds the whole is MAX_PAGES.
        { call, method: "GET", path, query, deadline: this.#deadline() },
        scheduledJobsAnswer,
      );
      paused = answer.cluster_queue.paused;
      for (const job of answer.jobs) {
        if (!jobs.has(job.id)) jobs.set(job.id, { uuid: job.id, priority: job.priority, raw: job });
      }
      if (!answer.page_info.has_next_page) break;
      const cursor = answer.page_info.end_cursor ?? "";
      if (cursor === "")
        throw this.#paging(`page ${page} said there is a next page but gave no end_cursor`);
      if (cursors.has(cursor))
        throw this.#paging(`page ${page} repeated the end_cursor of an earlier page`);
      cursors.add(cursor);
      after = cursor;
    }
    return { paused, jobs: [...jobs.values()] };
  }

  /**
   * Reserves jobs for the stack `key` for `expirySeconds` (Buildkite's default, 300 s,
   * when left out), in requests of 1000 uuids. Jobs another stack holds, or that are no
   * longer scheduled, come back in `notReserved`.
   */
  async reserve(
    key: string,
    uuids: readonly string[],
    expirySeconds?: number,
  ): Promise<Reservation> {
    const deadline = this.#deadline();
    const path = `stacks/${segment(key)}/scheduled-jobs/batch-reserve`;
    const result = { reserved: [] as string[], notReserved: [] as string[] };
    for (const chunk of chunks([...new Set(uuids)], RESERVE_CHUNK)) {
      const body = {
        job_uuids: chunk,
        ...(expirySeconds === undefined ? {} : { reservation_expiry_seconds: expirySeconds }),
      };
      const answer = await this.#send(
        { call: "reserve", method: "PUT", path, body, deadline },
        reserveAnswer,
      );
      result.reserved.push(...answer.reserved);
      result.notReserved.push(...answer.not_reserved);
    }
    return result;
  }

  /**
   * The states of jobs by uuid (`scheduled`, `reserved`, `running`, `finished`...); unknown
   * jobs are absent. Requests of 100 uuids, each with its own deadline; one that fails
   * fails the call (use {@link StacksClient.statesEach} to keep the others).
   */
  async states(key: string, uuids: readonly string[]): Promise<Map<string, string>> {
    const states = new Map<string, string>();
    for (const chunk of chunks([...new Set(uuids)], STATES_CHUNK)) {
      for (const [uuid, state] of await this.#states("states", key, chunk, this.#deadline())) {
        states.set(uuid, state);
      }
    }
    return states;
  }

  /**
   * {@link StacksClient.states}, keeping what could be read: the states of the requests
   * that succeeded, and the error of each that did not (its uuids stay unknown).
   */
  async statesEach(
    key: string,
    uuids: readonly string[],
  ): Promise<{ states: Map<string, string>; errors: unknown[] }> {
    const states = new Map<string, string>();
    const errors: unknown[] = [];
    for (const chunk of chunks([...new Set(uuids)], STATES_CHUNK)) {
      try {
        for (const [uuid, state] of await this.#states("states", key, chunk, this.#deadline())) {
          states.set(uuid, state);
        }
      } catch (error) {
        errors.push(error);
      }
    }
    return { states, errors };
  }

  /**
   * Fails a job no agent holds yet (scheduled or reserved) with `exitStatus` and `detail`
   * (shown in the job's timeline). Returns "already-finished" when Buildkite refuses
   * because the job is over (finished, canceled...); throws `rejected` when it refuses
   * because an agent holds the job (send a notification instead).
   */
  async finish(
    key: string,
    uuid: string,
    failure: JobFailure,
  ): Promise<"finished" | "already-finished"> {
    const call = "finish";
    const deadline = this.#deadline();
    const path = `stacks/${segment(key)}/jobs/${segment(uuid)}/finish`;
    const body = {
      exit_status: failure.exitStatus,
      detail: cropUtf8(failure.detail, FINISH_DETAIL_BYTES),
    };
    try {
      await this.#send({ call, method: "POST", path, body, deadline }, anyAnswer);
      return "finished";
    } catch (error) {
      if (!(error instanceof StacksApiError && error.kind === "rejected" && error.status === 422)) {
        throw error;
      }
      // Buildkite's 422 does not say why in a documented way; the job's state does.
      const state = (await this.#states(call, key, [uuid], deadline)).get(uuid);
      if (state !== undefined && ENDED.has(state)) return "already-finished";
      const why =
        state !== undefined && HELD.has(state)
          ? `it is ${state}: an agent holds it, so send a notification instead`
          : `it is ${state ?? "unknown to Buildkite"}`;
      throw new StacksApiError(
        { kind: "rejected", call, status: 422 },
        `finish: Buildkite would not finish job ${uuid}: ${why}`,
        { cause: error },
      );
    }
  }

  /**
   * Adds notes to jobs' timelines, in requests of 1000. Best effort: Buildkite's report of
   * notes it could not record (a job it does not know) is not an error.
   */
  async notify(key: string, notifications: readonly StackNotification[]): Promise<void> {
    const deadline = this.#deadline();
    const path = `stacks/${segment(key)}/notifications`;
    const now = new Date(this.#settings.now());
    for (const chunk of chunks(notifications, NOTIFY_CHUNK)) {
      const body = {
        notifications: chunk.map((note) => ({
          job_uuid: note.uuid,
          detail: cropUtf8(note.detail, NOTIFICATION_DETAIL_BYTES),
          timestamp: (note.at ?? now).toISOString(),
        })),
      };
      await this.#send({ call: "notify", method: "POST", path, body, deadline }, notifyAnswer);
    }
  }

  async #states(
    call: string,
    key: string,
    uuids: readonly string[],
    deadline: number,
  ): Promise<Map<string, string>> {
    const path = `stacks/${segment(key)}/jobs/get-states`;
    const states = new Map<string, string>();
    for (const chunk of chunks([...new Set(uuids)], STATES_CHUNK)) {
      const body = { job_uuids: chunk };
      const answer = await this.#send({ call, method: "POST", path, body, deadline }, statesAnswer);
      for (const [uuid, state] of Object.entries(answer.states)) states.set(uuid, state);
    }
    return states;
  }

  #deadline(): number {
    return this.#settings.now() + this.#timeoutMs;
  }

  #send<T>(
    request: Omit<StacksRequest<T>, "schema" | "deadline" | "timeoutMs"> & { deadline?: number },
    schema: z.ZodType<T, unknown>,
  ): Promise<T> {
    return send(this.#settings, {
      ...request,
      schema,
      deadline: request.deadline ?? this.#deadline(),
      timeoutMs: this.#timeoutMs,
    });
  }

  #paging(what: string): StacksApiError {
    return new StacksApiError(
      { kind: "unavailable", call: "scheduledJobs" },
      `scheduledJobs: Buildkite's paging of scheduled jobs never ended (${what}); ` +
        "the listing is incomplete, try again on the next pass",
    );
  }
}
