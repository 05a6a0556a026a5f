import { type Figure, figure, percentile } from "./stats.js";

/**
 * The pure half of the bench's `e2e` section: one job's moments turned into the splits
 * the issue names, the p50 and p99 of each split over a round, the figures over rounds,
 * and the lead of each path over the poller. Nothing here reads a clock.
 */

/** The entry points measured end to end, and the polling peer they are compared with. */
export const E2E_PATHS = ["webhook", "sqs", "lambda"] as const;
export type E2ePathName = (typeof E2E_PATHS)[number] | "poller";

/** When each step of one job happened, in milliseconds since the epoch (one clock). */
export interface JobMoments {
  /** The emulator's `event sent` (for the poller, the same moment: the job is scheduled). */
  readonly sent: number;
  /**
   * When our code had the event, where a queue stands between (the SQS consumer: its log
   * line's time less the scheduling's `durationMs`). Absent for pushes (webhook, Lambda):
   * their transport then counts as ours.
   */
  readonly received?: number;
  /** The bench's Job watch saw it ADDED. */
  readonly jobCreated: number;
  /** The test kubelet saw the pod bound to its node. */
  readonly bound: number;
  /** The kubelet started the `agent` container's process. */
  readonly agentStarted: number;
  /** The emulator's `accepted by`: the agent's acquire call. */
  readonly acquired: number;
  /** The emulator's `finished with exit status`. */
  readonly finished: number;
}

/** The splits of one job, in milliseconds. */
export const SPLITS = [
  "event_to_job",
  "event_to_receipt",
  "receipt_to_job",
  "job_to_bound",
  "bound_to_agent",
  "agent_to_acquire",
  "event_to_acquire",
  "event_to_finished",
] as const;
export type Split = (typeof SPLITS)[number];

/**
 * One job's splits: event to Job, of it the queue's delivery (event to receipt) and our
 * share (receipt to Job), pod scheduling (Job to bound), process start (bound to the agent
 * running, then to its acquire call), and the totals.
 *
 * @example
 * splitsOf({ sent: 0, jobCreated: 8, bound: 30, agentStarted: 60, acquired: 400, finished: 900 });
 * // { event_to_job: 8, event_to_receipt: 0, receipt_to_job: 8, job_to_bound: 22, bound_to_agent: 30, agent_to_acquire: 340, event_to_acquire: 400, event_to_finished: 900 }
 */
export function splitsOf(m: JobMoments): Record<Split, number> {
  return {
    event_to_job: m.jobCreated - m.sent,
    event_to_receipt: (m.received ?? m.sent) - m.sent,
    receipt_to_job: m.jobCreated - (m.received ?? m.sent),
    job_to_bound: m.bound - m.jobCreated,
    bound_to_agent: m.agentStarted - m.bound,
    agent_to_acquire: m.acquired - m.agentStarted,
    event_to_acquire: m.acquired - m.sent,
    event_to_finished: m.finished - m.sent,
  };
}

/** The p50 and p99 of one split over a round's jobs. */
export interface RoundPercentiles {
  readonly p50: number;
  readonly p99: number;
}

/**
 * The p50 and p99 (nearest rank) of every split over one round's jobs.
 *
 * @example
 * roundPercentiles([moments]).event_to_job; // { p50: 8, p99: 8 }
 */
export function roundPercentiles(jobs: readonly JobMoments[]): Record<Split, RoundPercentiles> {
  const splits = jobs.map(splitsOf);
  const of = (split: Split): RoundPercentiles => {
    const values = splits.map((s) => s[split]);
    return { p50: percentile(values, 50), p99: percentile(values, 99) };
  };
  return Object.fromEntries(SPLITS.map((split) => [split, of(split)])) as Record<
    Split,
    RoundPercentiles
  >;
}

/** A split's figures over rounds: the median, min and max of the rounds' p50 and p99. */
export interface SplitFigures {
  readonly p50_ms: Figure;
  readonly p99_ms: Figure;
}

export type PathFigures = Readonly<Record<Split, SplitFigures>>;

/** What the `e2e` section of the results holds. */
export interface E2eResults {
  readonly jobs_per_round: number;
  readonly rounds: number;
  readonly paths: Readonly<Record<E2ePathName, PathFigures>>;
  /**
   * Per path, per round: the poller's event-to-acquire p50 divided by the path's. Above
   * 1, the path reached the agent's acquire call first.
   */
  readonly lead_over_poller: Readonly<Record<(typeof E2E_PATHS)[number], Figure>>;
}

/** Each round's percentiles of each path, as the bench collects them. */
export type Rounds = readonly Readonly<Record<E2ePathName, Record<Split, RoundPercentiles>>>[];

/**
 * The section's figures from its rounds.
 *
 * @example
 * e2eResults(rounds, 20).lead_over_poller.webhook.min; // > 1 when ahead in every round
 */
export function e2eResults(rounds: Rounds, jobsPerRound: number): E2eResults {
  const pathFigures = (path: E2ePathName): PathFigures =>
    Object.fromEntries(
      SPLITS.map((split) => [
        split,
        {
          p50_ms: figure(rounds.map((round) => round[path][split].p50)),
          p99_ms: figure(rounds.map((round) => round[path][split].p99)),
        },
      ]),
    ) as Record<Split, SplitFigures>;
  const lead = (path: (typeof E2E_PATHS)[number]) =>
    figure(
      rounds.map((round) => round.poller.event_to_acquire.p50 / round[path].event_to_acquire.p50),
    );
  return {
    jobs_per_round: jobsPerRound,
    rounds: rounds.length,
    paths: {
      webhook: pathFigures("webhook"),
      sqs: pathFigures("sqs"),
      lambda: pathFigures("lambda"),
      poller: pathFigures("poller"),
    },
    lead_over_poller: {
      webhook: lead("webhook"),
      sqs: lead("sqs"),
      lambda: lead("lambda"),
    },
  };
}

/** The e2e targets, in the shape of the bench's other targets. */
export interface E2eTarget {
  readonly key: string;
  readonly value: number;
  readonly limit: string;
  readonly met: boolean;
}

/**
 * Our share of the delay must stay under this, p50, on every path: event to Job created,
 * less a queue's delivery (SQS's, on moto here) where one stands between.
 */
export const OUR_SHARE_P50_LIMIT_MS = 20;

/**
 * The targets for the section: our share's p50 (receipt to Job) under 20 ms on
 * every path (the median over rounds), and event-to-acquire p50 below the poller's in every round (the
 * smallest lead over rounds above 1).
 *
 * @example
 * e2eTargets(results).filter((t) => !t.met); // what this run missed
 */
export function e2eTargets(e2e: E2eResults): E2eTarget[] {
  return E2E_PATHS.flatMap((path) => {
    const share = e2e.paths[path].receipt_to_job.p50_ms.median;
    const lead = e2e.lead_over_poller[path].min;
    return [
      {
        key: `e2e.paths.${path}.receipt_to_job.p50_ms`,
        value: share,
        limit: `< ${OUR_SHARE_P50_LIMIT_MS}`,
        met: share < OUR_SHARE_P50_LIMIT_MS,
      },
      {
        key: `e2e.lead_over_poller.${path}.min`,
        value: lead,
        limit: "> 1",
        met: lead > 1,
      },
    ];
  });
}
