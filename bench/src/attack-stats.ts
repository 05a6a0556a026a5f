import { type Figure, figure, percentile } from "./stats.js";

/**
 * The pure half of the bench's `attack` section: which hostile request each connection
 * sends, how its answer is classified, one round's figures from its samples, the figures
 * over rounds, and the targets. Nothing here reads a clock, a socket or /proc.
 */

/**
 * The hostile requests, each a `POST /webhook` that stalls after what it sends:
 * - `unsigned`: no authentication header, a declared body of 1 MiB, nothing of it sent.
 * - `forged`: a well-formed `X-Buildkite-Signature` (current timestamp, wrong HMAC), so it
 *   passes the header check; a declared body under the server's limit, part of it sent.
 *   Only the HMAC over the whole body can tell it from a real webhook.
 * - `forged-oversized`: the same signature, a declared body of 1 MiB: over the limit.
 */
export const HOSTILE_KINDS = ["unsigned", "forged", "forged-oversized"] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** Declared by `unsigned` and `forged-oversized`: twice the server's 512 KiB limit. */
export const OVERSIZED_BYTES = 1024 * 1024;
/** Declared by `forged`: just under the server's 512 KiB limit, so its body is read. */
export const FORGED_DECLARED_BYTES = 500 * 1024;
/** Sent by `forged` before it stalls: what the server holds for it in memory. */
export const FORGED_SENT_BYTES = 256 * 1024;

/**
 * The kind of hostile connection `index`: of every four, two `unsigned`, one `forged`,
 * one `forged-oversized`.
 *
 * @example
 * [0, 1, 2, 3].map(hostileKind); // ["unsigned", "forged", "unsigned", "forged-oversized"]
 */
export function hostileKind(index: number): HostileKind {
  const slot = index % 4;
  return slot === 1 ? "forged" : slot === 3 ? "forged-oversized" : "unsigned";
}

/**
 * What a hostile connection of `kind` writes before it stalls: the request's head and,
 * for `forged`, the start of its body. `nowSeconds` makes the forged signature's
 * timestamp current; its HMAC is 64 hex digits of nothing.
 *
 * @example
 * hostileRequest("unsigned", 1_700_000_000).head; // "POST /webhook HTTP/1.1\r\n...Content-Length: 1048576\r\n\r\n"
 */
export function hostileRequest(
  kind: HostileKind,
  nowSeconds: number,
): { head: string; bodyBytes: number } {
  const signed = kind !== "unsigned";
  const length = kind === "forged" ? FORGED_DECLARED_BYTES : OVERSIZED_BYTES;
  const head = [
    "POST /webhook HTTP/1.1",
    "Host: 127.0.0.1",
    "Content-Type: application/json",
    "X-Buildkite-Event: job.scheduled",
    ...(signed
      ? [`X-Buildkite-Signature: timestamp=${nowSeconds},signature=${"0".repeat(64)}`]
      : []),
    `Content-Length: ${length}`,
    "",
    "",
  ].join("\r\n");
  return { head, bodyBytes: kind === "forged" ? FORGED_SENT_BYTES : 0 };
}

/** What became of a hostile connection by the end of its phase. */
export const HOSTILE_ANSWERS = ["401", "408", "413", "503", "other", "closed", "open"] as const;
export type HostileAnswer = (typeof HOSTILE_ANSWERS)[number];

/**
 * A hostile connection's answer from the first bytes the server sent (`undefined`:
 * none), and whether the connection has closed: its status when it is one of those the
 * server uses against hostile clients, `other` for any other status, `closed` when it
 * was closed unanswered, `open` when it is still held unanswered.
 *
 * @example
 * answerOf("HTTP/1.1 401 Unauthorized\r\n", true); // "401"
 * answerOf(undefined, false); // "open"
 */
export function answerOf(firstBytes: string | undefined, closed: boolean): HostileAnswer {
  if (firstBytes === undefined || firstBytes.length === 0) return closed ? "closed" : "open";
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(firstBytes)?.[1];
  return HOSTILE_ANSWERS.find((answer) => answer === status) ?? "other";
}

/**
 * How many connections got each answer, every answer present.
 *
 * @example
 * tally(["401", "401", "open"]); // { "401": 2, "408": 0, ..., open: 1 }
 */
export function tally(answers: readonly HostileAnswer[]): Record<HostileAnswer, number> {
  const counts = Object.fromEntries(HOSTILE_ANSWERS.map((a) => [a, 0])) as Record<
    HostileAnswer,
    number
  >;
  for (const answer of answers) counts[answer] += 1;
  return counts;
}

/**
 * A valid webhook that was not answered 202 (refused, or unanswered within the sender's
 * deadline) counts as this many milliseconds in the percentiles: the sender's deadline.
 * A p99 at this figure means more than 1% of valid webhooks were lost.
 */
export const LOST_MS = 30_000;

/** The sends of one phase: each valid webhook's latency, or `undefined` where it was lost. */
export type PhaseSamples = readonly (number | undefined)[];

/** One round of the section: a quiet phase, then the same load under attack. */
export interface AttackRound {
  readonly quiet: PhaseSamples;
  readonly underAttack: PhaseSamples;
  /** Peak resident memory of the server (VmRSS, sampled) in each phase, in MiB. */
  readonly quietRssMib: number;
  readonly underAttackRssMib: number;
  readonly answers: readonly HostileAnswer[];
}

/** One round's p50 and p99 of a phase (lost webhooks at {@link LOST_MS}) and how many were lost. */
export function phasePercentiles(samples: PhaseSamples): {
  p50: number;
  p99: number;
  lost: number;
} {
  const latencies = samples.map((ms) => ms ?? LOST_MS);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    lost: samples.filter((ms) => ms === undefined).length,
  };
}

/** What the JSON holds under `attack`: medians (min-max) over rounds. */
export interface AttackResults {
  readonly hostile_connections: number;
  /** Valid signed webhooks per phase, and their arrival rate. */
  readonly valid_webhooks: number;
  readonly rate_per_sec: number;
  readonly rounds: number;
  readonly quiet: { p50_ms: Figure; p99_ms: Figure; rss_mib: Figure; lost: Figure };
  readonly under_attack: { p50_ms: Figure; p99_ms: Figure; peak_rss_mib: Figure; lost: Figure };
  /** Under attack p99 / quiet p99, per round. */
  readonly p99_ratio: Figure;
  /** Hostile connections by what became of them by the end of the phase. */
  readonly refused: Readonly<Record<HostileAnswer, Figure>>;
}

/**
 * The section's figures from its rounds: each phase's percentiles per round, the ratio of
 * the two p99s in the same round, and the medians over rounds.
 *
 * @example
 * attackResults(rounds, { hostile: 400, valid: 400, rate: 40 }).p99_ratio.median; // 1.3
 */
export function attackResults(
  rounds: readonly AttackRound[],
  load: { hostile: number; valid: number; rate: number },
): AttackResults {
  const quiet = rounds.map((round) => phasePercentiles(round.quiet));
  const attacked = rounds.map((round) => phasePercentiles(round.underAttack));
  const counts = rounds.map((round) => tally(round.answers));
  return {
    hostile_connections: load.hostile,
    valid_webhooks: load.valid,
    rate_per_sec: load.rate,
    rounds: rounds.length,
    quiet: {
      p50_ms: figure(quiet.map((q) => q.p50)),
      p99_ms: figure(quiet.map((q) => q.p99)),
      rss_mib: figure(rounds.map((round) => round.quietRssMib)),
      lost: figure(quiet.map((q) => q.lost)),
    },
    under_attack: {
      p50_ms: figure(attacked.map((a) => a.p50)),
      p99_ms: figure(attacked.map((a) => a.p99)),
      peak_rss_mib: figure(rounds.map((round) => round.underAttackRssMib)),
      lost: figure(attacked.map((a) => a.lost)),
    },
    p99_ratio: figure(attacked.map((a, i) => a.p99 / (quiet[i]?.p99 ?? Number.NaN))),
    refused: Object.fromEntries(
      HOSTILE_ANSWERS.map((answer) => [answer, figure(counts.map((c) => c[answer]))]),
    ) as Record<HostileAnswer, Figure>,
  };
}

/** The Deployment's memory limit (deploy/kubernetes/webhook/deployment.yaml), in MiB. */
export const DEPLOYMENT_MEMORY_LIMIT_MIB = 384;
/** Valid webhooks' p99 under attack may be at most this many times the quiet p99. */
export const P99_RATIO_LIMIT = 2;

/** The targets for the section, in the shape of the bench's other targets. */
export interface AttackTarget {
  readonly key: string;
  readonly value: number;
  readonly limit: string;
  readonly met: boolean;
}

/**
 * The issue's targets: the server's peak RSS under attack below the Deployment's memory
 * limit (the median over rounds) and the valid webhooks' p99 within twice the quiet one
 * (the median of the per-round ratios); and, for that p99 to mean what it says, no
 * valid webhook lost in any round.
 *
 * @example
 * attackTargets(results).filter((t) => !t.met); // what this run missed
 */
export function attackTargets(attack: AttackResults): AttackTarget[] {
  const rss = attack.under_attack.peak_rss_mib.median;
  const ratio = attack.p99_ratio.median;
  const lost = attack.under_attack.lost.max;
  return [
    {
      key: "attack.under_attack.peak_rss_mib",
      value: rss,
      limit: `< ${DEPLOYMENT_MEMORY_LIMIT_MIB}`,
      met: rss < DEPLOYMENT_MEMORY_LIMIT_MIB,
    },
    {
      key: "attack.p99_ratio",
      value: ratio,
      limit: `<= ${P99_RATIO_LIMIT}`,
      met: ratio <= P99_RATIO_LIMIT,
    },
    { key: "attack.under_attack.lost.max", value: lost, limit: "<= 0", met: lost <= 0 },
  ];
}

/**
 * Resident memory from a /proc/<pid>/status text (`VmRSS`), in MiB.
 *
 * @example
 * vmRssMib("Name:\tnode\nVmRSS:\t  102400 kB\n"); // 100
 */
export function vmRssMib(status: string): number {
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kib === undefined) throw new Error("no VmRSS line: has the process exited?");
  return Number(kib) / 1024;
}
