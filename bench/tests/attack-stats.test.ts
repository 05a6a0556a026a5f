import { describe, expect, it } from "vitest";
import {
  type AttackRound,
  answerOf,
  attackResults,
  attackTargets,
  FORGED_DECLARED_BYTES,
  FORGED_SENT_BYTES,
  HOSTILE_ANSWERS,
  hostileKind,
  hostileRequest,
  LOST_MS,
  phasePercentiles,
  tally,
  vmRssMib,
} from "../src/attack-stats.js";

/** 100 valid webhooks: 98 at `fast` ms and two (the nearest-rank p99) at `slow`. */
const samples = (fast: number, slow: number) => [
  ...Array.from({ length: 98 }, () => fast),
  slow,
  slow,
];

const round = (quietP99: number, attackedP99: number, rss = 100): AttackRound => ({
  quiet: samples(5, quietP99),
  underAttack: samples(6, attackedP99),
  quietRssMib: 80,
  underAttackRssMib: rss,
  answers: ["401", "401", "413", "open", "503"],
});

describe("the hostile requests", () => {
  it("mix two unsigned, one forged and one oversized forged connection in every four", () => {
    // Act
    const kinds = Array.from({ length: 8 }, (_, i) => hostileKind(i));

    // Assess
    expect(kinds.filter((kind) => kind === "unsigned")).toHaveLength(4);
    expect(kinds.filter((kind) => kind === "forged")).toHaveLength(2);
    expect(kinds.filter((kind) => kind === "forged-oversized")).toHaveLength(2);
  });

  it("carry no signature when unsigned, and a well-formed current one when forged", () => {
    // Act
    const unsigned = hostileRequest("unsigned", 1_700_000_000);
    const forged = hostileRequest("forged", 1_700_000_000);
    const oversized = hostileRequest("forged-oversized", 1_700_000_000);

    // Assess
    expect(unsigned.head).not.toMatch(/x-buildkite-signature/i);
    expect(unsigned.head).toContain("Content-Length: 1048576\r\n");
    expect(unsigned.bodyBytes).toBe(0);
    expect(forged.head).toMatch(
      /\r\nX-Buildkite-Signature: timestamp=1700000000,signature=[0-9a-f]{64}\r\n/,
    );
    expect(forged.head).toContain(`Content-Length: ${FORGED_DECLARED_BYTES}\r\n`);
    expect(forged.bodyBytes).toBe(FORGED_SENT_BYTES);
    expect(FORGED_SENT_BYTES).toBeLessThan(FORGED_DECLARED_BYTES);
    expect(FORGED_DECLARED_BYTES).toBeLessThanOrEqual(512 * 1024);
    expect(oversized.head).toContain("Content-Length: 1048576\r\n");
    for (const { head } of [unsigned, forged, oversized]) {
      expect(head.startsWith("POST /webhook HTTP/1.1\r\n")).toBe(true);
      expect(head.endsWith("\r\n\r\n")).toBe(true);
    }
  });
});

describe("answerOf", () => {
  it("is the status the server answered, or what became of an unanswered connection", () => {
    // Assess
    expect(answerOf("HTTP/1.1 401 Unauthorized\r\n", true)).toBe("401");
    expect(answerOf("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1", false)).toBe("503");
    expect(answerOf("HTTP/1.1 408 Request Timeout\r\n", true)).toBe("408");
    expect(answerOf("HTTP/1.1 500 Internal Server Error\r\n", true)).toBe("other");
    expect(answerOf("garbage", true)).toBe("other");
    expect(answerOf(undefined, true)).toBe("closed");
    expect(answerOf(undefined, false)).toBe("open");
  });
});

describe("tally", () => {
  it("counts every answer, those nobody got as 0", () => {
    // Act
    const counts = tally(["401", "401", "open"]);

    // Assess
    expect(Object.keys(counts)).toEqual([...HOSTILE_ANSWERS]);
    expect(counts).toMatchObject({ "401": 2, open: 1, "503": 0, closed: 0 });
  });
});

describe("phasePercentiles", () => {
  it("counts a lost webhook at the sender's deadline, so more than 1% lost shows in the p99", () => {
    // Prepare: 98 answered, 2 lost
    const phase = [...Array.from({ length: 98 }, () => 4), undefined, undefined];

    // Act
    const result = phasePercentiles(phase);

    // Assess
    expect(result).toEqual({ p50: 4, p99: LOST_MS, lost: 2 });
  });
});

describe("attackResults", () => {
  it("takes the p99 ratio inside each round, then the median over rounds", () => {
    // Prepare: quiet p99 10, 20, 10; under attack 15, 20, 40
    const rounds = [round(10, 15), round(20, 20), round(10, 40)];

    // Act
    const results = attackResults(rounds, { hostile: 400, valid: 100, rate: 40 });

    // Assess
    expect(results.p99_ratio).toEqual({ median: 1.5, min: 1, max: 4, runs: 3 });
    expect(results.quiet.p99_ms.median).toBe(10);
    expect(results.under_attack.p99_ms.median).toBe(20);
    expect(results.under_attack.p50_ms.median).toBe(6);
    expect(results.under_attack.lost.max).toBe(0);
    expect(results.refused["401"].median).toBe(2);
    expect(results.refused["408"].median).toBe(0);
    expect(results).toMatchObject({ hostile_connections: 400, valid_webhooks: 100, rounds: 3 });
  });
});

describe("attackTargets", () => {
  it("are met with RSS under the Deployment's limit, p99 within twice quiet, nothing lost", () => {
    // Act
    const met = attackTargets(
      attackResults([round(10, 20, 383)], { hostile: 4, valid: 100, rate: 40 }),
    );

    // Assess
    expect(met.map((t) => [t.key, t.met])).toEqual([
      ["attack.under_attack.peak_rss_mib", true],
      ["attack.p99_ratio", true],
      ["attack.under_attack.lost.max", true],
    ]);
  });

  it("are missed at the Deployment's limit, beyond twice the p99, or with a webhook lost", () => {
    // Prepare: one round lost a valid webhook
    const lossy: AttackRound = { ...round(10, 10), underAttack: [...samples(6, 7), undefined] };

    // Act
    const missed = attackTargets(
      attackResults([round(10, 21, 384)], { hostile: 4, valid: 100, rate: 40 }),
    );
    const lost = attackTargets(attackResults([lossy], { hostile: 4, valid: 101, rate: 40 }));

    // Assess
    expect(missed.slice(0, 2).map((t) => t.met)).toEqual([false, false]);
    expect(lost.find((t) => t.key === "attack.under_attack.lost.max")).toMatchObject({
      value: 1,
      met: false,
    });
  });
});

describe("vmRssMib", () => {
  it("reads VmRSS from /proc/<pid>/status in MiB, and fails without it", () => {
    // Prepare
    const status = "Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n";

    // Assess
    expect(vmRssMib(status)).toBe(100);
    expect(() => vmRssMib("Name:\tnode\n")).toThrow(/VmRSS/);
  });
});
