import type { ClusterApi } from "@ondemand-eks/submitter";

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection
 * does it: the holder renews the Lease every `retryMs`; another replica takes it over
 * only after it has seen the same record unchanged for a whole lease duration, measured
 * on its own clock (so clocks that disagree between nodes do not matter); a holder
 * that could not renew within `renewDeadlineMs` stops acting before anyone may take over.
 * Every write carries the resourceVersion it read, so two replicas racing for the Lease
 * cannot both win: the API server refuses the second with 409 Conflict.
 */

export interface LeaseOptions {
  readonly api: ClusterApi;
  readonly namespace: string;
  readonly name: string;
  /** Who we are: the pod's name, plus something unique to this process. */
  readonly identity: string;
  /** How long a Lease holds without renewal. Default 15 s. */
  readonly durationMs?: number;
  /** How long the holder keeps acting without a successful renewal. Default 10 s. */
  readonly renewDeadlineMs?: number;
  /** Milliseconds since the epoch, for the Lease's timestamps. Default Date.now. */
  readonly now?: () => number;
  /**
   * A monotonic clock in milliseconds, for every duration (leading, expiry): a wall clock
   * stepped by NTP must not make a replica think it still leads. Default performance.now.
   */
  readonly clock?: () => number;
}

/** The Lease object, as far as this reads and writes it. */
interface LeaseObject {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

/** Kubernetes' MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === "number" ? status : undefined;
}

/**
 * One replica's view of the election. Call {@link LeaderLease.tryAcquireOrRenew} every
 * `retryMs`; act only while {@link LeaderLease.isLeader} says so.
 *
 * @example
 * const lease = new LeaderLease({ api, namespace: "ondemand-eks", name: "ondemand-eks-controller", identity: "pod-a" });
 * if (await lease.tryAcquireOrRenew()) await pass();
 */
export class LeaderLease {
  readonly #api: ClusterApi;
  readonly #path: string;
  readonly #collection: string;
  readonly #name: string;
  readonly #namespace: string;
  readonly identity: string;
  readonly durationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #now: () => number;
  readonly #clock: () => number;
  /** When we last renewed successfully (our monotonic clock); undefined while not leading. */
  #renewedAt: number | undefined;
  /** The other holder's record as last seen, and when (our clock) it last changed. */
  #observed: { key: string; at: number } | undefined;

  constructor(options: LeaseOptions) {
    this.#api = options.api;
    this.#name = options.name;
    this.#namespace = options.namespace;
    this.#collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/leases`;
    this.#path = `${this.#collection}/${encodeURIComponent(options.name)}`;
    this.identity = options.identity;
    this.durationMs = options.durationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? Math.floor((this.durationMs * 2) / 3);
    if (!(this.#renewDeadlineMs < this.durationMs)) {
      throw new RangeError("renewDeadlineMs must be shorter than durationMs");
    }
    this.#now = options.now ?? Date.now;
    this.#clock = options.clock ?? (() => performance.now());
  }

  /**
   * Whether this replica leads now: it renewed within the renew deadline, so no other
   * replica can have taken over yet.
   */
  isLeader(): boolean {
    return this.#renewedAt !== undefined && this.#clock() - this.#renewedAt < this.#renewDeadlineMs;
  }

  /**
   * Takes the Lease when it is free or expired, or renews it when ours. Resolves to
   * whether this replica leads; a failure to reach the API server counts as not leading
   * once the renew deadline has passed. Never rejects.
   */
  async tryAcquireOrRenew(): Promise<boolean> {
    try {
      await this.#attempt();
    } catch {
      // Unreachable API server, or a lost race (409): we lead only while the last
      // renewal is recent enough.
    }
    if (!this.isLeader()) this.#renewedAt = undefined;
    return this.isLeader();
  }

  async #attempt(): Promise<void> {
    const now = this.#now();
    // Taken before the first request: a renewal counts from when it was asked for.
    const tick = this.#clock();
    let current: LeaseObject;
    try {
      current = await this.#api.get<LeaseObject>(this.#path, { timeoutMs: this.#renewDeadlineMs });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      await this.#api.create(this.#collection, this.#record(now, now, 0), {
        timeoutMs: this.#renewDeadlineMs,
      });
      this.#renewedAt = tick;
      return;
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    if (holder === this.identity) {
      const acquired = spec.acquireTime ? Date.parse(spec.acquireTime) : now;
      await this.#write(current, this.#record(acquired, now, spec.leaseTransitions ?? 0));
      this.#renewedAt = tick;
      return;
    }
    this.#renewedAt = undefined;
    // Someone else's record: it expires a lease duration after we last saw it change.
    const key = `${holder}|${spec.renewTime ?? ""}|${current.metadata.resourceVersion ?? ""}`;
    if (this.#observed?.key !== key) this.#observed = { key, at: tick };
    const durationMs = (spec.leaseDurationSeconds ?? this.durationMs / 1000) * 1000;
    if (holder !== "" && tick - this.#observed.at < durationMs) return;
    await this.#write(current, this.#record(now, now, (spec.leaseTransitions ?? 0) + 1));
    this.#renewedAt = tick;
  }

  /**
   * Gives the Lease up if we hold it, so another replica takes over at once rather than
   * after a lease duration. For shutdown; never rejects.
   */
  async release(): Promise<void> {
    if (this.#renewedAt === undefined) return;
    this.#renewedAt = undefined;
    try {
      const current = await this.#api.get<LeaseObject>(this.#path, { timeoutMs: 5_000 });
      if (current.spec?.holderIdentity !== this.identity) return;
      await this.#write(current, {
        ...current,
        spec: { ...current.spec, holderIdentity: null, acquireTime: null, renewTime: null },
      });
    } catch {
      // The Lease then expires by itself.
    }
  }

  #record(acquiredAt: number, renewedAt: number, transitions: number): LeaseObject {
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.#name, namespace: this.#namespace },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.max(1, Math.round(this.durationMs / 1000)),
        acquireTime: microTime(acquiredAt),
        renewTime: microTime(renewedAt),
        leaseTransitions: transitions,
      },
    };
  }

  /** Replaces the Lease, but only if it is still the version we read. */
  async #write(current: LeaseObject, next: LeaseObject): Promise<void> {
    const body = {
      ...next,
      metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion },
    };
    await this.#api.replace(this.#path, body, { timeoutMs: this.#renewDeadlineMs });
  }
}
