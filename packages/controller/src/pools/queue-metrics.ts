import type { QueueDepth } from "@ondemand-eks/core";
import { z } from "zod";
import { QueueMetricsError } from "./errors.js";

/** Buildkite's limit on the metrics endpoint is generous; reading more often says nothing new. */
export const MIN_METRICS_INTERVAL_MS = 10_000;

export interface QueueMetricsClientOptions {
  /** Buildkite's agent API, without a trailing slash: `https://agent.buildkite.com/v3`. */
  readonly endpoint: string;
  /** The cluster agent token (an agent registration token works too). */
  readonly token: string;
  /** Deadline of one read. Default 5 s. */
  readonly timeoutMs?: number;
  /** For tests: the clock (epoch ms) and the HTTP client. */
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** Called after each read that went to Buildkite: `ok`, or the error's kind. */
  readonly onRead?: (result: "ok" | QueueMetricsError["kind"]) => void;
}

/** Counts of one queue or agent group, as buildkite-agent-metrics decodes them. */
const jobCounts = z.looseObject({
  scheduled: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  waiting: z.number().int().nonnegative().optional(),
});
const agentCounts = z.looseObject({
  idle: z.number().int().nonnegative(),
  busy: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
});
const metricsAnswer = z.looseObject({
  jobs: z.looseObject({ queues: z.record(z.string(), jobCounts).optional() }),
  agents: z.looseObject({ queues: z.record(z.string(), agentCounts).optional() }),
});

/** One read: every queue Buildkite reported, and when it was read. */
export interface QueueMetrics {
  /** By queue name; a queue with no jobs and no agents may be absent (read it as zeros). */
  readonly queues: ReadonlyMap<string, QueueDepth>;
  /** Epoch ms of the read. */
  readonly at: number;
}

type LastRead = { readonly at: number; readonly result: Promise<QueueMetrics> };

/**
 * Buildkite's queue metrics (`GET <endpoint>/metrics`, `Authorization: Token <token>`): the
 * scheduled, running and waiting jobs and the idle and busy agents of each queue of the
 * token's cluster. At most one request per {@link MIN_METRICS_INTERVAL_MS}: a read within
 * that of the last returns the last one's result (its failure too), and concurrent reads
 * share one request. One attempt per read, no retries: the next read is the retry.
 *
 * @example
 * ```ts
 * const metrics = new QueueMetricsClient({ endpoint: "https://agent.buildkite.com/v3", token });
 * const { queues } = await metrics.read();
 * queues.get("linux"); // { scheduled: 4, running: 2, waiting: 0, idleAgents: 1, ... }
 * ```
 */
export class QueueMetricsClient {
  readonly #endpoint: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  readonly #onRead: QueueMetricsClientOptions["onRead"];
  #last: LastRead | undefined;

  constructor(options: QueueMetricsClientOptions) {
    this.#endpoint = options.endpoint.replace(/\/+$/, "");
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    if (!(this.#timeoutMs > 0)) {
      throw new RangeError(`timeoutMs: expected a positive number, received ${this.#timeoutMs}`);
    }
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetch ?? fetch;
    this.#onRead = options.onRead;
  }

  /** Every queue's counts: from Buildkite, or the last read's when that was under 10 s ago. */
  read(): Promise<QueueMetrics> {
    const now = this.#now();
    const last = this.#last;
    if (last && now - last.at < MIN_METRICS_INTERVAL_MS && now >= last.at) return last.result;
    const result = this.#request(now);
    this.#last = { at: now, result };
    return result;
  }

  async #request(at: number): Promise<QueueMetrics> {
    try {
      const queues = await this.#fetchQueues(at);
      this.#onRead?.("ok");
      return { queues, at };
    } catch (error) {
      const failure =
        error instanceof QueueMetricsError
          ? error
          : new QueueMetricsError({ kind: "unavailable" }, this.#describe(error));
      this.#onRead?.(failure.kind);
      throw failure;
    }
  }

  async #fetchQueues(at: number): Promise<Map<string, QueueDepth>> {
    const url = `${this.#endpoint}/metrics`;
    const response = await this.#fetch(url, {
      headers: { authorization: `Token ${this.#token}`, accept: "application/json" },
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    const text = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new QueueMetricsError(
        { kind: "unauthorized", status: response.status },
        `GET ${url}: Buildkite refused the cluster token (${response.status}): check BUILDKITE_CLUSTER_TOKEN`,
      );
    }
    if (!response.ok) {
      throw new QueueMetricsError(
        { kind: "unavailable", status: response.status },
        `GET ${url}: Buildkite answered ${response.status}`,
      );
    }
    let parsed: z.infer<typeof metricsAnswer>;
    try {
      parsed = metricsAnswer.parse(JSON.parse(text));
    } catch (error) {
      throw new QueueMetricsError(
        { kind: "invalid", status: response.status },
        `GET ${url}: the answer is not Buildkite's queue metrics`,
        { cause: error instanceof z.ZodError ? error.issues : undefined },
      );
    }
    return depths(parsed, at);
  }

  /** A failure without an answer, in words that never hold the token. */
  #describe(error: unknown): string {
    const url = `${this.#endpoint}/metrics`;
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
      return `GET ${url}: no answer within ${this.#timeoutMs} ms`;
    }
    const cause =
      error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
    const code = typeof cause?.code === "string" ? ` (${cause.code})` : "";
    return `GET ${url}: Buildkite could not be reached${code}`;
  }
}

/** The counts per queue, both halves joined (a queue may have jobs and no agents). */
function depths(answer: z.infer<typeof metricsAnswer>, at: number): Map<string, QueueDepth> {
  const jobs = answer.jobs.queues ?? {};
  const agents = answer.agents.queues ?? {};
  const queues = new Map<string, QueueDepth>();
  for (const queue of new Set([...Object.keys(jobs), ...Object.keys(agents)])) {
    const job = jobs[queue];
    const agent = agents[queue];
    queues.set(queue, {
      scheduled: job?.scheduled ?? 0,
      running: job?.running ?? 0,
      waiting: job?.waiting ?? 0,
      idleAgents: agent?.idle ?? 0,
      busyAgents: agent?.busy ?? 0,
      totalAgents: agent?.total ?? 0,
      at,
    });
  }
  return queues;
}
