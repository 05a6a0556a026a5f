/**
 * What the webhook server holds at a moment (connections, bodies, bytes) and what it has
 * turned away, by reason: for its bounds, for /metrics, and for tests that check them.
 */

/** Why a request or connection was turned away before it was scheduled. */
export type RefusalReason =
  | "unauthorized"
  | "too-large"
  | "connections"
  | "bodies-in-flight"
  | "timeout"
  | "bad-request";

const REASONS: readonly RefusalReason[] = [
  "unauthorized",
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
  release(): void;
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

  constructor(private readonly maxBodiesInFlight: number) {}

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

  /** A slot for one more body, or `undefined` when all are taken. */
  takeBodySlot(): BodySlot | undefined {
    if (this.#bodies >= this.maxBodiesInFlight) return undefined;
    this.#bodies += 1;
    let held = 0;
    let released = false;
    return {
      add: (bytes) => {
        if (released) return;
        held += bytes;
        this.#bytes += bytes;
        this.#peak = Math.max(this.#peak, this.#bytes);
      },
      release: () => {
        if (released) return;
        released = true;
        this.#bodies -= 1;
        this.#bytes -= held;
      },
    };
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
