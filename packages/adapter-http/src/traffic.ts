/**
 * What the webhook server holds at a moment (connections, bodies, bytes) and what it has
 * turned away, by reason: for its bounds, for /metrics, and for tests that check them.
 */

/** Why a request or connection was turned away before it was scheduled. */
export type RefusalReason =
  | "unauthorized"
  | "slow-body"
  | "too-large"
  | "connections"
  | "bodies-in-flight"
  | "timeout"
  | "bad-request";

const REASONS: readonly RefusalReason[] = [
  "unauthorized",
  "slow-body",
  "too-large",
  "connections",
  "bodies-in-flight",
  "timeout",
  "bad-request",
];

/** A snapshot of {@link Traffic}. */
export interface TrafficStats {
  /** Connections open now. */
  readonly connections: number;
  /** Requests whose body is being read or handled now. */
  readonly bodiesInFlight: number;
  /** Bytes of those bodies held now. */
  readonly bodyBytesInFlight: number;
  /** The most bytes of bodies ever held at once. */
  readonly peakBodyBytesInFlight: number;
  /** Requests and connections turned away, by reason. */
  readonly refused: Readonly<Record<RefusalReason, number>>;
}

/** A body slot: count the bytes read into it, and give it back (once) when done. */
export interface BodySlot {
  add(bytes: number): void;
  /** The body has been read whole: the slot can no longer be taken from it. */
  bodyRead(): void;
  release(): void;
}

/** A slot as the server holds it: when its body began, and how to cut it off. */
interface HeldSlot {
  readonly since: number;
  lastByte: number;
  reading: boolean;
  readonly evict: () => void;
  readonly release: () => void;
}

/** The counts of one server. */
export class Traffic {
  #connections = 0;
  #bodies = 0;
  #bytes = 0;
  #peak = 0;
  readonly #refused = Object.fromEntries(REASONS.map((reason) => [reason, 0])) as Record<
    RefusalReason,
    number
  >;

  readonly #held = new Set<HeldSlot>();

  constructor(
    private readonly maxBodiesInFlight: number,
    private readonly slowBodyMs = Number.POSITIVE_INFINITY,
    private readonly idleBodyMs = Number.POSITIVE_INFINITY,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts a connection in; the returned function counts it out. */
  connected(): () => void {
    this.#connections += 1;
    let open = true;
    return () => {
      if (open) this.#connections -= 1;
      open = false;
    };
  }

  get connections(): number {
    return this.#connections;
  }

  /**
   * A slot for one more body. When all are taken, a body still arriving after `slowBodyMs`,
   * or silent for `idleBodyMs`, is cut off (`evict`; the longest silent first) and its slot
   * given to this one; otherwise `undefined`.
   */
  takeBodySlot(evict: () => void = () => {}): BodySlot | undefined {
    if (this.#bodies >= this.maxBodiesInFlight && !this.#evictSlowest()) return undefined;
    this.#bodies += 1;
    let bytes = 0;
    let released = false;
    const since = this.now();
    const held: HeldSlot = {
      since,
      lastByte: since,
      reading: true,
      evict,
      release: () => {
        if (released) return;
        released = true;
        this.#held.delete(held);
        this.#bodies -= 1;
        this.#bytes -= bytes;
      },
    };
    this.#held.add(held);
    return {
      add: (count) => {
        if (released) return;
        bytes += count;
        held.lastByte = this.now();
        this.#bytes += count;
        this.#peak = Math.max(this.#peak, this.#bytes);
      },
      bodyRead: () => {
        held.reading = false;
      },
      release: held.release,
    };
  }

  /** Cuts off the longest silent of the bodies too slow to keep; whether one was. */
  #evictSlowest(): boolean {
    const now = this.now();
    const tooSlow = (held: HeldSlot) =>
      now - held.since >= this.slowBodyMs || now - held.lastByte >= this.idleBodyMs;
    let slowest: HeldSlot | undefined;
    for (const held of this.#held) {
      if (!held.reading || !tooSlow(held)) continue;
      if (!slowest || held.lastByte < slowest.lastByte) slowest = held;
    }
    if (!slowest) return false;
    slowest.release();
    slowest.evict();
    this.refused("slow-body");
    return true;
  }

  refused(reason: RefusalReason): void {
    this.#refused[reason] += 1;
  }

  stats(): TrafficStats {
    return {
      connections: this.#connections,
      bodiesInFlight: this.#bodies,
      bodyBytesInFlight: this.#bytes,
      peakBodyBytesInFlight: this.#peak,
      refused: { ...this.#refused },
    };
  }

  /** The counts in Prometheus' text format, for /metrics beside the scheduler's. */
  metricsText(prefix = "ondemand_eks_"): string {
    const gauge = (name: string, help: string, value: number) =>
      `# HELP ${prefix}${name} ${help}\n# TYPE ${prefix}${name} gauge\n${prefix}${name} ${value}\n`;
    const refused = REASONS.map(
      (reason) => `${prefix}http_refused_total{reason="${reason}"} ${this.#refused[reason]}\n`,
    ).join("");
    return [
      `# HELP ${prefix}http_refused_total Webhook requests and connections turned away before scheduling, by reason.\n`,
      `# TYPE ${prefix}http_refused_total counter\n${refused}`,
      gauge("http_connections", "Webhook server connections open.", this.#connections),
      gauge(
        "http_bodies_in_flight",
        "Webhook requests whose body is being read or handled.",
        this.#bodies,
      ),
      gauge("http_body_bytes_in_flight", "Bytes of webhook bodies held in memory.", this.#bytes),
    ].join("");
  }
}
