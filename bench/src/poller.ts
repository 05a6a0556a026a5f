import { createScheduler, readConfig, type Scheduler, silentLogger } from "@ondemand-eks/runtime";

/**
 * The polling peer of the `e2e` section: a model of agent-stack-k8s, Buildkite's own
 * Kubernetes stack (its Go module is not served by the module proxy here, so it cannot be
 * built and run). What is modelled, from its design and defaults:
 *
 * - it registers as a stack (`POST stacks/register`) for one queue;
 * - every second (its default poll interval; a ticker, so a slow poll skips a tick
 *   rather than shifting the next) it lists the queue's scheduled jobs through the
 *   Stacks API, every page (`GET stacks/:key/scheduled-jobs?queue_key=`);
 * - it reserves what it found (`PUT stacks/:key/scheduled-jobs/batch-reserve`) and creates
 *   one Kubernetes Job for each reserved job, all at once.
 *
 * The Job is ours, built by the same scheduler the other paths use (`@ondemand-eks/runtime`
 * with the bundled pod library and the same agent endpoint) from an event made of the
 * Stacks API's job, so the pods, and their scheduling and start, are the same as ours.
 *
 * Not modelled: its informer-based limit on Jobs in flight (never reached with one job
 * at a time), its Go client's HTTP overhead and its own process (this runs in the bench's
 * process over loopback, which can only favour it), its own pod spec (an init container
 * that copies the agent binary, then agent, checkout and command containers), and its
 * backoff on errors. The figures are therefore a lower bound for the polling design.
 */

/** Where the poller finds the Stacks API and the cluster. */
export interface PollerOptions {
  /** The agent API's base (`.../v3`), where the Stacks API lives too. */
  readonly endpoint: string;
  readonly clusterToken: string;
  readonly kubeconfig: string;
  /** The agent endpoint Jobs' agents are given, as for the other paths. */
  readonly agentEndpoint: string;
  readonly queue?: string;
  readonly pollIntervalMs?: number;
  /** Where errors go: a failed poll is logged, and the next tick tries again. */
  readonly log?: (line: string) => void;
}

export interface Poller {
  /** Starts polling (the first poll at once). */
  start(): void;
  /** Stops polling, waiting for a poll under way. */
  pause(): Promise<void>;
  close(): Promise<void>;
}

/** A job as `scheduled-jobs` lists it. */
interface StacksJob {
  readonly id: string;
  readonly agent_query_rules?: readonly string[];
  readonly pipeline?: { readonly slug?: string; readonly uuid?: string };
  readonly build?: { readonly uuid?: string; readonly number?: number; readonly branch?: string };
}

interface ScheduledJobsPage {
  readonly jobs: readonly StacksJob[];
  readonly page_info: { readonly has_next_page: boolean; readonly end_cursor: string };
}

/**
 * The detail of an EventBridge "Job Scheduled" made of what the Stacks API lists: what
 * the core reads to route and label a Job (uuid, rules, build number, pipeline slug).
 *
 * @example
 * eventOf({ id, agent_query_rules: ["queue=default"], pipeline: { slug: "p" }, build: { number: 1 } });
 * // { job: { uuid: id, agent_query_rules: [...], state: "scheduled" }, build: {...}, pipeline: {...} }
 */
export function eventOf(job: StacksJob) {
  return {
    job: {
      uuid: job.id,
      agent_query_rules: [...(job.agent_query_rules ?? [])],
      state: "scheduled",
    },
    build: {
      uuid: job.build?.uuid ?? null,
      number: job.build?.number ?? 0,
      branch: job.build?.branch ?? null,
    },
    pipeline: { uuid: job.pipeline?.uuid ?? null, slug: job.pipeline?.slug ?? "unknown" },
  };
}

/**
 * Registers the stack and builds the scheduler; `start()` begins polling.
 *
 * @example
 * const poller = await startPoller({ endpoint: buildkite.url, clusterToken, kubeconfig, agentEndpoint: buildkite.url });
 * poller.start(); // ... jobs become Jobs within a second or so
 * await poller.close();
 */
export async function startPoller(options: PollerOptions): Promise<Poller> {
  const queue = options.queue ?? "default";
  const key = "bench-poller";
  const log = options.log ?? (() => {});
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${options.endpoint}/${path}`, {
      method,
      headers: {
        authorization: `Token ${options.clusterToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
  await call("POST", "stacks/register", {
    key,
    type: "custom",
    queue_key: queue,
    metadata: { model: "agent-stack-k8s" },
  });
  const { scheduler: config } = await readConfig({
    scope: "schedule",
    flags: { kubeconfig: options.kubeconfig, agentEndpoint: options.agentEndpoint },
  });
  const scheduler: Scheduler = await createScheduler(config, { log: silentLogger });

  const poll = async () => {
    const jobs: StacksJob[] = [];
    let after = "";
    for (;;) {
      const query = `queue_key=${encodeURIComponent(queue)}${after ? `&after=${after}` : ""}`;
      const page = await call<ScheduledJobsPage>("GET", `stacks/${key}/scheduled-jobs?${query}`);
      jobs.push(...page.jobs);
      if (!page.page_info.has_next_page) break;
      after = encodeURIComponent(page.page_info.end_cursor);
    }
    if (jobs.length === 0) return;
    const { reserved } = await call<{ reserved: string[] }>(
      "PUT",
      `stacks/${key}/scheduled-jobs/batch-reserve`,
      { job_uuids: jobs.map((job) => job.id), reservation_expiry_seconds: 300 },
    );
    const mine = new Set(reserved);
    await Promise.all(
      jobs
        .filter((job) => mine.has(job.id))
        .map(async (job) => {
          const outcome = await scheduler.schedule(eventOf(job));
          if (outcome.outcome !== "created") log(`poller: ${job.id} ${outcome.outcome}`);
        }),
    );
  };

  const interval = options.pollIntervalMs ?? 1_000;
  let ticker: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return; // a ticker drops the tick a slow poll overran
    running = poll()
      .catch((error: unknown) => log(`poller: ${String(error)}`))
      .finally(() => {
        running = undefined;
      });
  };
  const pause = async () => {
    clearInterval(ticker);
    ticker = undefined;
    await running;
  };
  return {
    start() {
      if (ticker) return;
      ticker = setInterval(tick, interval);
      tick();
    },
    pause,
    async close() {
      await pause();
      await call("POST", `stacks/${key}/deregister`).catch(() => undefined);
      await scheduler.close();
    },
  };
}
