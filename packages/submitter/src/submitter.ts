import { Agent } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type DeploymentManifest,
  type JobManifest,
  LABELS,
  type SubmitOutcome,
} from "@ondemand-eks/core";
import { abortable } from "./abortable.js";
import { apiRequest } from "./api-request.js";
import type { ClusterAuth } from "./auth/cluster-auth.js";
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from "./backoff.js";
import { classify, type Failure, isAlreadyExists } from "./classify.js";
import { ClusterApi } from "./cluster-api.js";
import { ApiError } from "./errors.js";

export interface SubmitterOptions {
  auth: ClusterAuth;
  /** Default deadline for one `submit`, retries included. Default 30 s. */
  timeoutMs?: number;
  /** Longest wait for one request. Default 10 s (never past the deadline). */
  attemptTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * Most create requests for one `submit`, retries included: the bound that holds even
   * when the backoff's jitter draws no wait. Default 20 (the 30 s deadline normally ends
   * a run of failures first).
   */
  maxAttempts?: number;
  /** Most connections held open to the API server. Default 64. */
  maxSockets?: number;
  /** Recorded as the manager of the fields we set. Default "ondemand-eks". */
  fieldManager?: string;
  /** For tests: the jitter source, and the clock. */
  random?: () => number;
  now?: () => number;
}

export interface SubmitOptions {
  /** This submission's deadline, from now; overrides the submitter's `timeoutMs`. */
  timeoutMs?: number;
  /** Server-side dry run (`dryRun=All`): full validation and admission, nothing stored. */
  dryRun?: boolean;
  /** Cancels the submission (it then ends `unavailable`). */
  signal?: AbortSignal;
}

const USER_AGENT = "ondemand-eks-submitter/0.1.0";
const DEFAULT_MAX_ATTEMPTS = 20;
/** The managed-by label value of our objects, when a manifest does not carry one. */
const MANAGED_BY = "ondemand-eks";

/**
 * Submits Kubernetes Jobs to one API server. Job names are derived from the Buildkite
 * job, so a submission is idempotent: a second one for the same job ends `exists`, and a
 * retry after an answer was lost cannot create a second Job. Transient failures
 * (connection refused or reset, timeouts, 429, 5xx) are retried with capped exponential
 * backoff and jitter until the deadline; nothing else is. Connections are kept alive and
 * shared by all submissions.
 */
export class Submitter {
  readonly #auth: ClusterAuth;
  readonly #agent: Agent;
  /** The server URL without a trailing slash; API paths are appended to it. */
  readonly #base: string;
  readonly #policy: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #maxAttempts: number;
  readonly #fieldManager: string;
  readonly #random: () => number;
  readonly #now: () => number;
  #api: ClusterApi | undefined;

  constructor(options: SubmitterOptions) {
    this.#auth = options.auth;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#timeoutMs = positive("timeoutMs", options.timeoutMs ?? 30_000);
    this.#attemptTimeoutMs = positive("attemptTimeoutMs", options.attemptTimeoutMs ?? 10_000);
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(this.#maxAttempts) || this.#maxAttempts < 1) {
      throw new RangeError(
        `maxAttempts: expected a whole number >= 1, received ${this.#maxAttempts}`,
      );
    }
    positive("retry.initialDelayMs", this.#policy.initialDelayMs);
    positive("retry.maxDelayMs", this.#policy.maxDelayMs);
    if (!(this.#policy.multiplier >= 1) || !Number.isFinite(this.#policy.multiplier)) {
      throw new RangeError(
        `retry.multiplier: expected a number >= 1, received ${this.#policy.multiplier}`,
      );
    }
    this.#fieldManager = options.fieldManager ?? "ondemand-eks";
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: options.maxSockets ?? 64,
      ...options.auth.tls,
    });
    this.#base = options.auth.server.replace(/\/+$/, "");
  }

  /** The API server this submitter talks to. */
  get server(): string {
    return this.#auth.server;
  }

  /** Creates the Job (idempotently) and reports what happened; never throws for API errors. */
  async submit(
    manifest: JobManifest | DeploymentManifest,
    options: SubmitOptions = {},
  ): Promise<SubmitOutcome> {
    const name = manifest.metadata.name;
    const namespace = manifest.metadata.namespace ?? "default";
    const dryRun = options.dryRun ?? false;
    const timeoutMs = positive("timeoutMs", options.timeoutMs ?? this.#timeoutMs);
    const deadline = this.#now() + timeoutMs;
    const body = JSON.stringify(manifest);
    let attempts = 0;
    let failures = 0;
    let refreshed = false;
    let lastProblem = "no request completed";
    const common = () => ({ name, namespace, attempts, dryRun });
    const cancelled = (): SubmitOutcome => ({
      ...common(),
      outcome: "unavailable",
      message: `cancelled by the caller (${lastProblem})`,
    });
    const spent = (): SubmitOutcome => ({
      ...common(),
      outcome: "unavailable",
      message: `no success in ${attempts} attempts: ${lastProblem}`,
    });

    for (;;) {
      if (options.signal?.aborted) return cancelled();
      const remaining = deadline - this.#now();
      if (remaining <= 0) {
        return {
          ...common(),
          outcome: "unavailable",
          message: `no success within ${timeoutMs} ms: ${lastProblem}`,
        };
      }
      if (attempts >= this.#maxAttempts) return spent();
      attempts += 1;
      // An attempt cut short by the deadline (not by its own timeout) that times out
      // says less than the failure before it, which is then the one reported.
      const shortened = remaining < this.#attemptTimeoutMs;
      const signal = this.#attemptSignal(remaining, options.signal);
      let failure: Failure;
      try {
        const query = new URLSearchParams({
          fieldManager: this.#fieldManager,
          fieldValidation: "Strict",
          ...(dryRun ? { dryRun: "All" } : {}),
        });
        // The whole call, auth headers included (an exec plugin may hang), is bounded.
        const created = await abortable(
          this.#call("POST", `${collection(manifest.kind, namespace)}?${query}`, signal, body),
          signal,
        );
        // Only an answer naming our object counts (a proxy or something that is not an API
        // server could answer 2xx with anything).
        if (created?.metadata?.name === name) {
          return { ...common(), outcome: "created", ...uid(created) };
        }
        failure = {
          kind: "fatal",
          message: `the server at ${this.#auth.server} answered without the ${manifest.kind}: is it a Kubernetes API server?`,
        };
      } catch (error) {
        failure = classify(error, this.#now());
      }
      if (options.signal?.aborted) return cancelled();

      if (isAlreadyExists(failure)) {
        const checked = await this.#checkExisting(manifest, namespace, signal);
        if (checked.kind === "ours") return { ...common(), outcome: "exists", ...checked.uid };
        if (checked.kind === "theirs") {
          return {
            ...common(),
            outcome: "rejected",
            status: 409,
            reason: "AlreadyExists",
            message: checked.message,
          };
        }
        failure = checked.failure;
      }

      switch (failure.kind) {
        case "unauthorized":
          if (!refreshed && this.#auth.refresh) {
            refreshed = true;
            if (await this.#refreshAuth(deadline, options.signal)) continue;
          }
          return {
            ...common(),
            outcome: "rejected",
            status: 401,
            reason: "Unauthorized",
            message: `the API server did not accept the credentials from ${this.#auth.description}`,
          };
        case "rejected":
          return { ...common(), outcome: "rejected", ...pick(failure) };
        case "fatal":
          return { ...common(), outcome: "unavailable", message: failure.message };
        case "transient": {
          failures += 1;
          if (!(shortened && failures > 1 && failure.timedOut)) lastProblem = failure.message;
          if (attempts >= this.#maxAttempts) return spent();
          const delay = backoffDelay(failures, this.#policy, this.#random, failure.retryAfterMs);
          if (this.#now() + delay >= deadline) {
            return {
              ...common(),
              outcome: "unavailable",
              message: `no success within ${timeoutMs} ms: ${lastProblem}`,
            };
          }
          try {
            await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
          } catch {
            // Cancelled while waiting: the loop reports it.
          }
          break;
        }
        default:
          throw unreachable(failure);
      }
    }
  }

  /** Asks the auth for newer credentials, within the deadline; false on any failure. */
  async #refreshAuth(deadline: number, caller?: AbortSignal): Promise<boolean> {
    const refresh = this.#auth.refresh;
    const remaining = deadline - this.#now();
    if (!refresh || remaining <= 0) return false;
    try {
      return await abortable(refresh.call(this.#auth), this.#attemptSignal(remaining, caller));
    } catch {
      return false;
    }
  }

  /**
   * Whether the API server answers (GET /version) within `timeoutMs`, with these
   * credentials: for readiness probes. Never throws.
   */
  async ping(timeoutMs = 2_000): Promise<boolean> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const version = await abortable(this.#call("GET", "/version", signal), signal);
      // An API server's answer names its version; a proxy's page or an empty 200 does not.
      return typeof (version as { gitVersion?: unknown } | undefined)?.gitVersion === "string";
    } catch {
      return false;
    }
  }

  /**
   * The rest of the Kubernetes API (list, read, patch, delete, Leases) over this
   * submitter's connections and credentials, with its retry policy, attempt timeout and
   * field manager. Its calls' default deadline is the ClusterApi's (10 s), not `timeoutMs`.
   * `close()` on the submitter closes it too.
   *
   * @example
   * ```ts
   * const { items } = await submitter.api().list<Job>("/apis/batch/v1/namespaces/buildkite/jobs");
   * ```
   */
  api(): ClusterApi {
    this.#api ??= new ClusterApi({
      auth: this.#auth,
      agent: this.#agent,
      attemptTimeoutMs: this.#attemptTimeoutMs,
      retry: this.#policy,
      maxAttempts: this.#maxAttempts,
      fieldManager: this.#fieldManager,
      userAgent: USER_AGENT,
      random: this.#random,
      now: this.#now,
    });
    return this.#api;
  }

  /** Closes idle keep-alive connections. The submitter must not be used afterwards. */
  close(): void {
    this.#agent.destroy();
  }

  /**
   * After AlreadyExists: is the Job under that name this Buildkite job's, made by us? Names
   * come from job UUIDs, so it normally is; a Job someone else made under the name
   * (another scheduler using the same name and job label, such as Buildkite's
   * agent-stack-k8s, or a squatter) is reported, not silently taken for ours. A 404 (the
   * name was freed between our create and our read; or a webhook or proxy answering
   * create and read inconsistently) is a transient failure: the create is tried again
   * after a backoff, within the same attempt budget.
   */
  async #checkExisting(
    manifest: JobManifest | DeploymentManifest,
    namespace: string,
    signal: AbortSignal,
  ): Promise<
    | { kind: "ours"; uid: { uid?: string } }
    | { kind: "theirs"; message: string }
    | { kind: "failed"; failure: Failure }
  > {
    let existing: ApiObject | undefined;
    const path = `${collection(manifest.kind, namespace)}/${encodeURIComponent(manifest.metadata.name)}`;
    try {
      existing = await abortable(this.#call("GET", path, signal), signal);
    } catch (error) {
      const failure = classify(error, this.#now());
      if (failure.kind === "rejected" && failure.status === 404) {
        return {
          kind: "failed",
          failure: {
            kind: "transient",
            message: `the create of ${manifest.metadata.name} answered 409 AlreadyExists, then reading it answered 404 NotFound (deleted in between, or an admission webhook or proxy answering inconsistently)`,
            timedOut: false,
          },
        };
      }
      if (failure.kind === "rejected" && failure.status === 403) {
        // Without get we cannot tell our Job from someone else's: say so, never guess.
        return {
          kind: "failed",
          failure: {
            ...failure,
            message: `${manifest.metadata.name} exists, and this identity may not get ${manifest.kind === "Job" ? "jobs" : "deployments"} to check it is this job's (grant get): ${failure.message}`,
          },
        };
      }
      return { kind: "failed", failure };
    }
    const found = `a ${manifest.kind} named ${manifest.metadata.name} already exists in ${namespace}`;
    const labels = existing?.metadata?.labels;
    const ourManager = manifest.metadata.labels?.[LABELS.managedBy] ?? MANAGED_BY;
    const manager = labels?.[LABELS.managedBy];
    if (manager !== ourManager) {
      return {
        kind: "theirs",
        message: `${found} ${
          manager === undefined
            ? `with no ${LABELS.managedBy} label`
            : `managed by ${shown(manager)}`
        }, not by ${ourManager}: it is not this scheduler's, and is left alone`,
      };
    }
    const want = manifest.metadata.labels?.[LABELS.jobUuid];
    const have = labels?.[LABELS.jobUuid];
    if (want === undefined || want === have) return { kind: "ours", uid: uid(existing) };
    return {
      kind: "theirs",
      message: `${found} and belongs to ${
        have === undefined ? "no Buildkite job" : `Buildkite job ${shown(have)}`
      }, not ${want}`,
    };
  }

  #attemptSignal(remaining: number, caller?: AbortSignal): AbortSignal {
    const timeout = AbortSignal.timeout(Math.max(1, Math.min(this.#attemptTimeoutMs, remaining)));
    return caller ? AbortSignal.any([timeout, caller]) : timeout;
  }

  /**
   * One request with this submitter's credentials, connections and user agent. A 2xx
   * answer resolves with its JSON (undefined if it is not JSON); any other status rejects
   * with an ApiError, which classify() sorts.
   */
  async #call(
    method: "GET" | "POST",
    path: string,
    signal: AbortSignal,
    body?: string,
  ): Promise<ApiObject | undefined> {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": USER_AGENT,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(await this.#auth.headers()),
    };
    const answer = await apiRequest({
      url: `${this.#base}${path}`,
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      agent: this.#agent,
      signal,
    });
    if (answer.status < 200 || answer.status > 299) {
      throw new ApiError(answer.status, answer.text, answer.headers);
    }
    try {
      return JSON.parse(answer.text) as ApiObject;
    } catch {
      return undefined;
    }
  }
}

/** The parts of a Job or Deployment the submitter reads from an answer. */
interface ApiObject {
  metadata?: { name?: unknown; uid?: unknown; labels?: Record<string, unknown> };
}

/** The API path of a namespace's Jobs or Deployments. */
function collection(kind: "Job" | "Deployment", namespace: string): string {
  const group = kind === "Job" ? "batch" : "apps";
  const resource = kind === "Job" ? "jobs" : "deployments";
  return `/apis/${group}/v1/namespaces/${encodeURIComponent(namespace)}/${resource}`;
}

/**
 * A label value read from the server, for a message: a real API server's are at most 63
 * plain characters, but whatever answered may not be one.
 */
function shown(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > 63 ? `${text.slice(0, 63)}...` : text);
}

function positive(field: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${field}: expected a positive number of milliseconds, received ${value}`);
  }
  return value;
}

function uid(object: ApiObject | undefined): { uid?: string } {
  const value = object?.metadata?.uid;
  return typeof value === "string" && value !== "" ? { uid: value } : {};
}

function pick(failure: { status: number; reason: string; message: string }) {
  return { status: failure.status, reason: failure.reason, message: failure.message };
}

/** For a `switch` that covers every case: a compile error when one is added and not handled. */
function unreachable(value: never): Error {
  return new Error(`unhandled case: ${JSON.stringify(value)}`);
}
