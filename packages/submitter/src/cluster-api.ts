import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import {
  type ApiCall,
  type ApiConnection,
  type AttemptCount,
  sendWithRetries,
} from "./api-call.js";
import type { ApiAnswer } from "./api-request.js";
import type { ClusterAuth } from "./auth/cluster-auth.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./backoff.js";
import { ClusterApiError } from "./errors.js";

/** The deadline and cancel of one ClusterApi call. */
export interface CallOptions {
  /** This call's deadline from now, retries (and a list's pages) included. */
  timeoutMs?: number;
  /** Cancels the call (it then fails `unavailable`). */
  signal?: AbortSignal;
}

export interface ListOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Items asked for per request (`limit`). Default 500. */
  pageSize?: number;
}

/** A write's options: a server-side dry run changes nothing and answers as if it had. */
export interface WriteOptions extends CallOptions {
  /**
   * Sends `dryRun=All`: the API server validates, defaults, admits and authorizes the
   * write, then stores nothing. The answer is the object as it would have been.
   */
  dryRun?: boolean;
}

export interface ApplyOptions extends WriteOptions {
  /**
   * Takes over fields another field manager owns instead of failing Conflict (409). Only
   * for objects that are ours whole: it silently undoes someone else's change.
   */
  force?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  /**
   * What becomes of the object's dependents (a Job's Pods). Default `Background`, as
   * kubectl does: the API's own default for a Job orphans its Pods.
   */
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  /** Delete only the object with this uid or version; otherwise fail Conflict. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ClusterApiOptions {
  auth: ClusterAuth;
  /**
   * Connections to share (a Submitter's, say), built with the auth's TLS settings. The
   * caller keeps it: `close()` leaves it open. Default: a keep-alive pool of its own.
   */
  agent?: HttpAgent;
  /** Default deadline of one call, retries included. Default 10 s. */
  timeoutMs?: number;
  /** Longest wait for one request. Default 10 s (never past the deadline). */
  attemptTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Most requests for one call (one page of a list), retries included. Default 20. */
  maxAttempts?: number;
  /** Most connections of its own pool. Default 16. */
  maxSockets?: number;
  /** Recorded as the manager of the fields set by create, replace, patch and apply. */
  fieldManager?: string;
  userAgent?: string;
  /** For tests: the jitter source, and the clock. */
  random?: () => number;
  now?: () => number;
}

/** A list's items, and the resourceVersion to watch from. */
export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

const DEFAULT_PAGE_SIZE = 500;

/**
 * The parts of the Kubernetes API beyond creating Jobs: read, list (all pages), create,
 * replace, merge-patch, server-side apply and delete any object by its API path (each
 * write optionally a server-side dry run), with the same credentials,
 * connections, deadlines and retry rules as a Submitter (transient failures retried with
 * backoff until the deadline, one auth refresh after a 401). Every failure is a
 * {@link ClusterApiError}.
 *
 * @example
 * ```ts
 * const api = new ClusterApi({ auth: await kubeconfigAuth() });
 * const { items } = await api.list<Job>("/apis/batch/v1/namespaces/buildkite/jobs", {
 *   labelSelector: "app.kubernetes.io/managed-by=ondemand-eks",
 * });
 * await api.patch(`/apis/batch/v1/namespaces/buildkite/jobs/${name}`, { spec: { suspend: true } });
 * ```
 */
export class ClusterApi {
  readonly #connection: ApiConnection;
  readonly #ownsAgent: boolean;
  readonly #timeoutMs: number;
  readonly #fieldManager: string;

  constructor(options: ClusterApiOptions) {
    const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    const maxAttempts = options.maxAttempts ?? 20;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`maxAttempts: expected a whole number >= 1, received ${maxAttempts}`);
    }
    positive("retry.initialDelayMs", policy.initialDelayMs);
    positive("retry.maxDelayMs", policy.maxDelayMs);
    if (!(policy.multiplier >= 1) || !Number.isFinite(policy.multiplier)) {
      throw new RangeError(
        `retry.multiplier: expected a number >= 1, received ${policy.multiplier}`,
      );
    }
    this.#timeoutMs = positive("timeoutMs", options.timeoutMs ?? 10_000);
    this.#fieldManager = options.fieldManager ?? "ondemand-eks";
    this.#ownsAgent = options.agent === undefined;
    this.#connection = {
      auth: options.auth,
      agent: options.agent ?? ownAgent(options),
      base: options.auth.server.replace(/\/+$/, ""),
      policy,
      attemptTimeoutMs: positive("attemptTimeoutMs", options.attemptTimeoutMs ?? 10_000),
      maxAttempts,
      userAgent: options.userAgent ?? "ondemand-eks-submitter/0.1.0",
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
  }

  /** The API server this client talks to. */
  get server(): string {
    return this.#connection.auth.server;
  }

  /**
   * Reads one object.
   *
   * @example
   * ```ts
   * const job = await api.get<Job>(`/apis/batch/v1/namespaces/buildkite/jobs/${name}`);
   * ```
   */
  async get<T>(path: string, options: CallOptions = {}): Promise<T> {
    const request: Request = { method: "GET", path };
    const count: AttemptCount = { attempts: 0 };
    return json<T>(await this.#send(request, options, count), request, count);
  }

  /**
   * Reads every item of a collection, page by page (`limit` and `continue`), all within
   * one deadline. When the server has compacted past the list's snapshot (410 Expired on a
   * continue token), the list starts again from the beginning, once.
   *
   * @example
   * ```ts
   * const { items } = await api.list<Pod>("/api/v1/namespaces/buildkite/pods", {
   *   labelSelector: `job-name=${name}`,
   * });
   * // The Events of one object:
   * const events = await api.list<Event>("/api/v1/namespaces/buildkite/events", {
   *   fieldSelector: `involvedObject.uid=${uid}`,
   * });
   * ```
   */
  async list<T>(path: string, options: ListOptions = {}): Promise<ListResult<T>> {
    return this.listReduced<T, T>(path, (item) => item, options);
  }

  /**
   * {@link ClusterApi.list}, keeping of each item only what `reduce` returns (an item it
   * returns undefined for is dropped), page by page: the full objects of one page at most
   * are held at a time, however many pages there are.
   *
   * @example
   * ```ts
   * const { items: names } = await api.listReduced<V1Job, string>(jobs, (job) => job.metadata?.name);
   * ```
   */
  async listReduced<T, U>(
    path: string,
    reduce: (item: T) => U | undefined,
    options: ListOptions = {},
  ): Promise<ListResult<U>> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1) {
      throw new RangeError(`pageSize: expected a whole number >= 1, received ${pageSize}`);
    }
    // One deadline for all pages.
    const timing = this.#timing(options);
    const count: AttemptCount = { attempts: 0 };
    let restarted = false;
    let items: U[] = [];
    let token: string | undefined;
    for (;;) {
      const query = new URLSearchParams({
        limit: String(pageSize),
        ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
        ...(options.fieldSelector === undefined ? {} : { fieldSelector: options.fieldSelector }),
        ...(token === undefined ? {} : { continue: token }),
      });
      let page: ListPage<T>;
      try {
        const request: Request = { method: "GET", path, target: withQuery(path, query) };
        page = listPage<T>(await this.#send(request, timing, count), request, count);
      } catch (error) {
        const expired = error instanceof ClusterApiError && error.status === 410;
        if (!expired || token === undefined || restarted) throw error;
        restarted = true;
        items = [];
        token = undefined;
        continue;
      }
      for (const item of page.items) {
        const kept = reduce(item);
        if (kept !== undefined) items.push(kept);
      }
      token = page.continue;
      if (token === undefined) return { items, resourceVersion: page.resourceVersion };
    }
  }

  /**
   * Creates an object in a collection and returns it as stored. An object of that name
   * fails `rejected` with reason AlreadyExists (possibly this call's own, when the answer
   * to an earlier attempt was lost).
   *
   * @example
   * ```ts
   * await api.create("/apis/coordination.k8s.io/v1/namespaces/buildkite/leases", lease);
   * ```
   */
  async create<T>(path: string, body: object, options: WriteOptions = {}): Promise<T> {
    return this.#write<T>({ method: "POST", path, body: JSON.stringify(body) }, options);
  }

  /**
   * Replaces an object (PUT). With `metadata.resourceVersion` set, a newer object on the
   * server fails `rejected` with reason Conflict: someone else wrote it first.
   *
   * @example
   * ```ts
   * lease.spec.renewTime = "2026-12-02T01:30:00.000000Z";
   * await api.replace(`/apis/coordination.k8s.io/v1/namespaces/buildkite/leases/${name}`, lease);
   * ```
   */
  async replace<T>(path: string, body: object, options: WriteOptions = {}): Promise<T> {
    return this.#write<T>({ method: "PUT", path, body: JSON.stringify(body) }, options);
  }

  /**
   * Applies a JSON merge patch (RFC 7386: objects merge, `null` removes a field, arrays
   * are replaced whole) and returns the object as stored.
   *
   * @example
   * ```ts
   * await api.patch(jobPath, { spec: { suspend: true }, metadata: { annotations: { why: "x" } } });
   * ```
   */
  async patch<T>(path: string, patch: object, options: WriteOptions = {}): Promise<T> {
    const contentType = "application/merge-patch+json";
    return this.#write<T>(
      { method: "PATCH", path, body: JSON.stringify(patch), contentType },
      options,
    );
  }

  /**
   * Server-side apply: sends `body` (a whole object as this client wants it: apiVersion,
   * kind, metadata.name and the fields it manages) as an apply patch under this client's
   * field manager, and returns the object as stored. The object is created when absent;
   * fields this manager set before and leaves out now are removed; a field another
   * manager owns with a different value fails `rejected` with reason Conflict, unless
   * `force` takes it over.
   *
   * @example
   * ```ts
   * const stored = await api.apply<Deployment>(
   *   `/apis/apps/v1/namespaces/buildkite/deployments/${name}`,
   *   deployment,
   *   { force: true },
   * );
   * ```
   */
  async apply<T>(path: string, body: object, options: ApplyOptions = {}): Promise<T> {
    // JSON is YAML: the API server takes a JSON body under the apply content type.
    const contentType = "application/apply-patch+yaml";
    const extra: Record<string, string> = options.force ? { force: "true" } : {};
    return this.#write<T>(
      { method: "PATCH", path, body: JSON.stringify(body), contentType },
      options,
      extra,
    );
  }

  /**
   * Deletes an object: `deleted` when the server accepted the delete (finalizers may keep
   * it a while), `not-found` when there was none (or no such namespace). A failed
   * precondition fails `rejected` with reason Conflict.
   *
   * @example
   * ```ts
   * await api.delete(jobPath, { preconditions: { uid } });
   * ```
   */
  async delete(path: string, options: DeleteOptions = {}): Promise<"deleted" | "not-found"> {
    const body = JSON.stringify({
      kind: "DeleteOptions",
      apiVersion: "v1",
      propagationPolicy: options.propagationPolicy ?? "Background",
      ...(options.preconditions === undefined ? {} : { preconditions: options.preconditions }),
      // In the body: the API server reads a DELETE's query only when it has no body.
      ...(options.dryRun ? { dryRun: ["All"] } : {}),
    });
    try {
      await this.#send({ method: "DELETE", path, body }, options);
      return "deleted";
    } catch (error) {
      if (error instanceof ClusterApiError && error.status === 404) return "not-found";
      throw error;
    }
  }

  /** Closes idle connections of its own pool (not a shared one). Do not use it afterwards. */
  close(): void {
    if (this.#ownsAgent) this.#connection.agent.destroy();
  }

  /** Sends a create, replace, patch or apply, with the field manager and strict validation. */
  async #write<T>(
    request: Request,
    options: WriteOptions,
    extra: Record<string, string> = {},
  ): Promise<T> {
    const query = new URLSearchParams({
      fieldManager: this.#fieldManager,
      fieldValidation: "Strict",
      ...(options.dryRun ? { dryRun: "All" } : {}),
      ...extra,
    });
    const sent: Request = { ...request, target: withQuery(request.path, query) };
    const count: AttemptCount = { attempts: 0 };
    return json<T>(await this.#send(sent, options, count), sent, count);
  }

  #send(
    request: Request,
    options: CallOptions | Timing,
    count: AttemptCount = { attempts: 0 },
  ): Promise<ApiAnswer> {
    const timing = "deadline" in options ? options : this.#timing(options);
    return sendWithRetries(
      this.#connection,
      { ...request, target: request.target ?? request.path, ...timing },
      count,
    );
  }

  #timing(options: CallOptions): Timing {
    const timeoutMs = positive("timeoutMs", options.timeoutMs ?? this.#timeoutMs);
    return {
      deadline: this.#connection.now() + timeoutMs,
      timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
  }
}

/** A call's request: `target` (default `path`) is sent, `path` is named in errors. */
type Request = Pick<ApiCall, "method" | "path" | "body" | "contentType"> & { target?: string };

/** A call's deadline, fixed when it starts. */
type Timing = Pick<ApiCall, "deadline" | "timeoutMs" | "signal">;

interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

function listPage<T>(answer: ApiAnswer, request: Request, count: AttemptCount): ListPage<T> {
  const page = json<{
    items?: unknown;
    metadata?: { resourceVersion?: unknown; continue?: unknown };
  }>(answer, request, count);
  if (!Array.isArray(page?.items)) {
    throw notTheApi(request, "answered without a list's items", count);
  }
  const resourceVersion = page.metadata?.resourceVersion;
  const token = page.metadata?.continue;
  return {
    items: page.items as T[],
    resourceVersion: typeof resourceVersion === "string" ? resourceVersion : "",
    ...(typeof token === "string" && token !== "" ? { continue: token } : {}),
  };
}

/** A 2xx answer's JSON; an answer that is not JSON was not the Kubernetes API's. */
function json<T>(answer: ApiAnswer, request: Request, count: AttemptCount): T {
  try {
    return JSON.parse(answer.text) as T;
  } catch {
    const what = `answered ${answer.status} with a body that is not JSON`;
    throw notTheApi(request, what, count);
  }
}

function notTheApi(request: Request, what: string, count: AttemptCount): ClusterApiError {
  return new ClusterApiError({
    kind: "unavailable",
    message: `${request.method} ${request.path}: the server ${what}: is it a Kubernetes API server?`,
    attempts: count.attempts,
  });
}

/** A keep-alive pool for the server's protocol (plain HTTP only behind a local proxy). */
function ownAgent(options: ClusterApiOptions): HttpAgent {
  const pool = { keepAlive: true, maxSockets: options.maxSockets ?? 16 };
  return options.auth.server.startsWith("http:")
    ? new HttpAgent(pool)
    : new HttpsAgent({ ...pool, ...options.auth.tls });
}

function withQuery(path: string, query: URLSearchParams): string {
  const text = query.toString();
  if (text === "") return path;
  return `${path}${path.includes("?") ? "&" : "?"}${text}`;
}

function positive(field: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${field}: expected a positive number of milliseconds, received ${value}`);
  }
  return value;
}
