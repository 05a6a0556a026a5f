import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type AttackRound,
  answerOf,
  type HostileAnswer,
  type HostileKind,
  hostileKind,
  hostileRequest,
  vmRssMib,
} from "./attack-stats.js";
import type { BenchJobs } from "./cluster.js";
import { atRateSettled, type Fire, saturate } from "./load.js";
import { httpPath, type Servers } from "./paths.js";
import type { BenchScale } from "./run.js";

/**
 * The bench's `attack` section: the webhook server, started as the http path starts it
 * with the Deployment's flag and heap cap, sent valid signed webhooks at a fixed rate
 * while quiet and then while hostile connections stall on it. The figures are made in
 * attack-stats.ts.
 */

type Log = (line: string) => void;

/** As deploy/kubernetes/webhook/deployment.yaml runs it: signatures only, V8 heap capped. */
const AS_DEPLOYED = {
  args: ["--require-signature"],
  env: { NODE_OPTIONS: "--max-old-space-size=192" },
};

/** One stalled hostile connection: what became of it so far, and a way to drop it. */
interface Hostile {
  /** Resolves once its request is written (or the connection is gone). */
  readonly sent: Promise<void>;
  answer(): HostileAnswer;
  destroy(): void;
}

/** Opens a connection to `port`, writes a hostile request of `kind` and sends nothing more. */
function openHostile(port: number, kind: HostileKind, nowSeconds: number): Hostile {
  const { head, bodyBytes } = hostileRequest(kind, nowSeconds);
  const socket = connect({ host: "127.0.0.1", port });
  let first: string | undefined;
  let closed = false;
  socket.on("data", (chunk: Buffer) => {
    first ??= chunk.toString("latin1", 0, 64);
  });
  // A reset or refused connection is closed unanswered: nothing to report but that.
  socket.on("error", () => {});
  const sent = new Promise<void>((resolve) => {
    socket.once("close", () => {
      closed = true;
      resolve();
    });
    socket.once("connect", () => {
      socket.write(head);
      if (bodyBytes === 0) socket.write("", () => resolve());
      else socket.write(Buffer.alloc(bodyBytes, 0x20), () => resolve());
    });
  });
  return { sent, answer: () => answerOf(first, closed), destroy: () => socket.destroy() };
}

/** The server's peak resident memory (VmRSS), read every 100 ms until `stop`. */
function sampleRss(pid: number): { stop(): number } {
  let peak = 0;
  const read = () => {
    peak = Math.max(peak, vmRssMib(readFileSync(`/proc/${pid}/status`, "utf8")));
  };
  read();
  const timer = setInterval(read, 100);
  return {
    stop() {
      clearInterval(timer);
      read();
      return peak;
    },
  };
}

/** Valid webhooks at the scale's rate, each lost one's reason counted into `lost`. */
async function validLoad(fire: Fire, scale: BenchScale, lost: Map<string, number>) {
  const counted: Fire = (uuid) =>
    fire(uuid).catch((error: Error) => {
      lost.set(error.message, (lost.get(error.message) ?? 0) + 1);
      throw error;
    });
  return atRateSettled(counted, scale.rate, scale.attackEvents);
}

/**
 * Runs the section's rounds: in each, `scale.attackEvents` valid webhooks at `scale.rate`
 * on a quiet server, then `scale.attackConnections` hostile connections opened and held
 * (see `HOSTILE_KINDS`) while the same load is sent again. Returns every round's samples.
 */
export async function runAttack(
  servers: Servers,
  jobs: BenchJobs,
  scale: BenchScale,
  log: Log,
): Promise<AttackRound[]> {
  const path = await httpPath(servers, AS_DEPLOYED);
  const pid = path.pid as number;
  const lost = new Map<string, number>();
  try {
    await saturate(path.fire, scale.concurrency, scale.warmupEvents);
    await jobs.clear();
    const rounds: AttackRound[] = [];
    for (let round = 0; round < scale.attackRounds; round++) {
      log(`attack, round ${round + 1} of ${scale.attackRounds}: quiet`);
      let rss = sampleRss(pid);
      const quiet = await validLoad(path.fire, scale, lost);
      const quietRssMib = rss.stop();
      await jobs.clear();

      log(`attack, round ${round + 1}: ${scale.attackConnections} hostile connections held`);
      rss = sampleRss(pid);
      const now = Math.floor(Date.now() / 1000);
      const hostiles = Array.from({ length: scale.attackConnections }, (_, i) =>
        openHostile(path.port, hostileKind(i), now),
      );
      await Promise.all(hostiles.map((hostile) => hostile.sent));
      // Let the server read every head (and answer those it refuses at once).
      await sleep(250);
      const underAttack = await validLoad(path.fire, scale, lost);
      const underAttackRssMib = rss.stop();
      const answers = hostiles.map((hostile) => hostile.answer());
      for (const hostile of hostiles) hostile.destroy();
      rounds.push({ quiet, underAttack, quietRssMib, underAttackRssMib, answers });
      // The server notices the closes and frees what they held before the next round.
      await sleep(1_000);
      await jobs.clear();
    }
    for (const [reason, count] of lost) log(`attack: ${count} valid webhooks lost: ${reason}`);
    return rounds;
  } finally {
    await path.stop();
  }
}
