import { setTimeout as sleep } from "node:timers/promises";
import type { Logger, PassLimits, PodDefinition, SchedulerSettings } from "@ondemand-eks/core";
import type { Attachment, Scheduler } from "@ondemand-eks/runtime";
import type { ClusterApi } from "@ondemand-eks/submitter";
import type { LeaderLease } from "./lease.js";
import type { ControllerMetrics } from "./metrics.js";
import { type PassContext, type PassReport, runPass } from "./pass.js";
import { reconcilePools } from "./pools/reconcile.js";
import type { PoolDesired, PoolScaler } from "./pools/scaler.js";
import type { StacksClient } from "./stacks/client.js";
import { StacksApiError } from "./stacks/errors.js";

/** The long-polling pools a controller keeps, and how. */
export interface ControllerPools {
  /** The whole pod library as it is now (an S3 library may have been reloaded). */
  readonly definitions: () => Promise<readonly PodDefinition[]>;
  /** Where the pools go (the job namespaces) and how their agents connect. */
  readonly settings: SchedulerSettings;
  /** Apply the Deployments (`--pools manage`); false: only scale what exists. */
  readonly manage: boolean;
  /** Decides (and, unless built with `apply: false`, sets) the scaled pools' replicas. */
  readonly scaler: PoolScaler;
  /**
   * The scaler only decides (`--pool-scaling off`: KEDA or an HPA sets the replicas).
   * Then every replica decides, leading or not, so that any of them answers KEDA's
   * `GET /pools/<name>` behind a Service; only the leader applies the pools.
   */
  readonly decideOnly?: boolean;
  /** Time between pool rounds. */
  readonly intervalMs: number;
}

export interface ControllerOptions {
  readonly scheduler: Scheduler;
  readonly api: ClusterApi;
  readonly stacks: StacksClient;
  /** Elects the replica that acts; every replica runs one. */
  readonly lease: LeaderLease;
  readonly queues: readonly string[];
  readonly namespaces: readonly string[];
  /** The stack of queue `q` is `<stackKey>-<q>`: Buildkite's stacks serve one queue each. */
  readonly stackKey: string;
  readonly limits: PassLimits;
  /** Time between passes. */
  readonly intervalMs: number;
  /** With a cap, how often an admission pass runs between full passes. Default 1 s. */
  readonly admissionIntervalMs?: number;
  /** How often the Lease is renewed (and taken when free). Default 2 s. */
  readonly leaseRetryMs?: number;
  /**
   * How long a reservation holds. Default 60 s, not Buildkite's 300: it covers the seconds
   * between reserving a job and creating its Job (the pod then acquires the job by id),
   * and a leader killed in between leaves the jobs it reserved unlisted, for every
   * replica, until their reservation ends. 300 s stranded them for five minutes.
   */
  readonly reservationSeconds?: number;
  readonly kubeTimeoutMs?: number;
  readonly log: Logger;
  readonly metrics?: ControllerMetrics;
  /** The long-polling pools, reconciled and scaled while leading. Absent: `--pools off`. */
  readonly pools?: ControllerPools;
  readonly now?: () => number;
}

/** Why the controller cannot work, said once: a token Buildkite refuses needs a person. */
type Blocked = { readonly reason: string } | undefined;

/**
 * The lifecycle controller: while it holds the Lease, it registers a stack per served
 * queue and runs a pass every interval (see {@link runPass}). It attaches to a
 * scheduler: the scheduler's readiness includes the controller's, and closing the
 * scheduler stops it. A cluster token Buildkite refuses is said once, at start and in
 * readiness; the event paths keep working without the controller.
 *
 * @example
 * const controller = new Controller({ scheduler, api, stacks, lease, queues: ["default"], ... });
 * scheduler.attach(controller);
 * controller.start(); // or: await controller.once() for --once
 */
export class Controller implements Attachment {
  readonly #options: ControllerOptions;
  readonly #now: () => number;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #organization: { slug: string; uuid: string } | undefined;
  #registered = false;
  #blocked: Blocked;
  #lastPass: { at: number; complete: boolean } | undefined;
  /** The queues the last full pass saw paused: admission passes resume none of theirs. */
  #paused: ReadonlySet<string> = new Set();
  #skipped: { reason: "not-leading" | "unavailable"; message: string } | undefined;
  /** The last failure to reach Buildkite while registering. */
  #unreachable: string | undefined;

  constructor(options: ControllerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The stack key of a served queue. */
  stackKeyFor(queue: string): string {
    return `${this.#options.stackKey}-${queue}`;
  }

  /** Runs passes until closed. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * One pass if this replica can lead (`--once`): takes the Lease when free, registers,
   * runs every loop once. Resolves to the pass's report, or undefined when another
   * replica leads or Buildkite cannot be used (the reason is logged).
   */
  async once(): Promise<PassReport | undefined> {
    this.#skipped = undefined;
    if (!(await this.#lead())) {
      this.#skipped = { reason: "not-leading", message: "another replica holds the Lease" };
      return undefined;
    }
    if (!(await this.#prepare())) {
      if (!this.#blocked) {
        this.#skipped = {
          reason: "unavailable",
          message: `Buildkite could not be reached: ${this.#unreachable ?? "no detail"}`,
        };
      }
      return undefined;
    }
    try {
      const report = await this.#pass();
      await this.#poolRound();
      return report;
    } finally {
      // One pass and done (a cron job, a scheduled Lambda whose next sandbox is another
      // replica): give the Lease up now, and leave the stacks registered for the next.
      this.#registered = false;
      await this.#options.lease.release();
    }
  }

  /** Why the last {@link Controller.once} ran no pass (besides `blocked`). */
  get skipped():
    | { readonly reason: "not-leading" | "unavailable"; readonly message: string }
    | undefined {
    return this.#skipped;
  }

  /** Ready while Buildkite accepts our token and the last pass (if any) could read everything. */
  ready(): boolean {
    if (this.#blocked) return false;
    return this.#lastPass === undefined || this.#lastPass.complete;
  }

  /**
   * Each scaled pool's last decision, by definition name (empty with `--pools off`, or
   * before the first round): what the KEDA endpoint serves. Stale once its `at` is
   * older than STALE_METRICS_MS.
   */
  poolDesired(): ReadonlyMap<string, PoolDesired> {
    return this.#options.pools?.scaler.desired() ?? new Map();
  }

  /** Why the controller is not working, when Buildkite refused it. */
  get blocked(): string | undefined {
    return this.#blocked?.reason;
  }

  /** Stops the loop after the pass in progress, deregisters the stacks, gives up the Lease. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    const { lease, stacks, log } = this.#options;
    if (this.#registered && lease.isLeader()) {
      for (const queue of this.#options.queues) {
        // A replica that took over in between registered these stacks for itself.
        if (!lease.isLeader()) break;
        try {
          await stacks.deregister(this.stackKeyFor(queue));
        } catch (error) {
          log.warn("deregistering stack", { stack: this.stackKeyFor(queue), error: String(error) });
        }
      }
    }
    await lease.release();
  }

  /**
   * Two loops: the Lease is renewed every `leaseRetryMs` on its own, so a long pass never
   * lets it lapse; passes run while this replica leads.
   */
  async #run(): Promise<void> {
    const renewing = this.#renew();
    const { limits } = this.#options;
    // With a cap, Jobs wait suspended: an admission pass (the cluster only) every second
    // between full passes resumes them as soon as capacity frees.
    const capped = limits.maxInFlight !== undefined || limits.maxInFlightTotal !== undefined;
    const admissionMs = capped ? (this.#options.admissionIntervalMs ?? 1_000) : Infinity;
    let nextPass = 0;
    let nextAdmission = Infinity;
    let nextPools = 0;
    while (!this.#stop.signal.aborted) {
      const leading = this.#options.lease.isLeader();
      const pools = this.#options.pools;
      if (pools && (leading || pools.decideOnly) && this.#now() >= nextPools) {
        await this.#poolRound(leading);
        nextPools = this.#now() + pools.intervalMs;
      } else if (!leading && !pools?.decideOnly && nextPools !== 0) {
        // A new leader starts without our cool-downs; so will we if we lead again.
        this.#options.pools?.scaler.reset();
        nextPools = 0;
      }
      if (!leading) {
        this.#registered = false;
        nextPass = 0;
      } else if (this.#now() >= nextPass) {
        if (await this.#prepare()) await this.#pass();
        nextPass = this.#now() + this.#options.intervalMs;
        nextAdmission = this.#now() + admissionMs;
      } else if (this.#registered && this.#now() >= nextAdmission) {
        await this.#pass({ paused: this.#paused });
        nextAdmission = this.#now() + admissionMs;
      }
      const next = Math.min(nextPass, nextAdmission, pools ? nextPools : Infinity);
      const wait = leading ? Math.max(10, Math.min(250, next - this.#now())) : 250;
      await this.#sleep(wait);
    }
    await renewing;
  }

  /** Renews (or takes) the Lease every `leaseRetryMs` until closed. */
  async #renew(): Promise<void> {
    const retryMs = this.#options.leaseRetryMs ?? 2_000;
    while (!this.#stop.signal.aborted) {
      await this.#lead();
      await this.#sleep(retryMs);
    }
  }

  async #sleep(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.#stop.signal });
    } catch {
      // Closed.
    }
  }

  async #lead(): Promise<boolean> {
    const leading = await this.#options.lease.tryAcquireOrRenew();
    this.#options.metrics?.leader(leading);
    return leading;
  }

  /**
   * Learns the organization and registers a stack per queue, once per leadership. A
   * refused token is said once (and kept for readiness); other failures are retried at
   * the next pass.
   */
  async #prepare(): Promise<boolean> {
    if (this.#registered && this.#organization) return true;
    const { stacks, log, queues } = this.#options;
    try {
      const who = await stacks.whoami();
      this.#organization = { slug: who.organizationSlug, uuid: who.organizationUuid };
      for (const queue of queues) {
        await stacks.register({ key: this.stackKeyFor(queue), queueKey: queue });
      }
      this.#registered = true;
      if (this.#blocked) log.info("Buildkite accepts the cluster token again");
      this.#blocked = undefined;
      log.info("stacks registered", {
        organization: who.organizationSlug,
        stacks: queues.map((queue) => this.stackKeyFor(queue)).join(", "),
      });
      return true;
    } catch (error) {
      if (error instanceof StacksApiError && error.kind === "unauthorized") {
        if (!this.#blocked) log.error("controller stopped", { reason: error.message });
        this.#blocked = { reason: error.message };
      } else {
        this.#unreachable = error instanceof Error ? error.message : String(error);
        log.warn("registering stacks", { error: this.#unreachable });
      }
      return false;
    }
  }

  /**
   * One pool round: apply the pools (with `--pools manage`, while leading), then scale
   * them (decide only, when not leading). Its own failures are logged and end only this
   * round: the job passes go on regardless.
   */
  async #poolRound(leading = true): Promise<void> {
    const { pools, api, log, kubeTimeoutMs } = this.#options;
    if (!pools) return;
    let definitions: readonly PodDefinition[];
    try {
      definitions = await pools.definitions();
    } catch (error) {
      log.error("pool round: reading the pod library", { error: String(error) });
      return;
    }
    if (pools.manage && leading) {
      try {
        await reconcilePools({
          api,
          definitions,
          settings: pools.settings,
          namespaces: [pools.settings.namespace, pools.settings.privilegedNamespace],
          // A new scaled pool starts at its minimum; after that its replicas are the scaler's.
          replicasFor: (definition, existing) =>
            existing === undefined ? definition.longPolling?.scaling?.minReplicas : undefined,
          log,
          ...(kubeTimeoutMs === undefined ? {} : { timeoutMs: kubeTimeoutMs }),
        });
      } catch (error) {
        log.error("pool round: applying the pools", { error: String(error) });
      }
    }
    try {
      await pools.scaler.scale(definitions);
    } catch (error) {
      log.error("pool round: scaling the pools", { error: String(error) });
    }
  }

  async #pass(admissionOnly?: PassContext["admissionOnly"]): Promise<PassReport | undefined> {
    const options = this.#options;
    const organization = this.#organization;
    if (!organization) return undefined;
    const started = this.#now();
    const context: PassContext = {
      api: options.api,
      stacks: options.stacks,
      scheduler: options.scheduler,
      queues: options.queues,
      namespaces: options.namespaces,
      stackKeyFor: (queue) => this.stackKeyFor(queue),
      organization,
      limits: options.limits,
      reservationSeconds: options.reservationSeconds ?? 60,
      kubeTimeoutMs: options.kubeTimeoutMs ?? 10_000,
      log: options.log,
      metrics: options.metrics,
      leading: () => options.lease.isLeader(),
      now: this.#now,
      ...(admissionOnly ? { admissionOnly } : {}),
      lastPaused: this.#paused,
    };
    let report: PassReport;
    try {
      report = await runPass(context);
    } catch (error) {
      // runPass notes failures itself; anything else must not end the loop.
      options.log.error("controller pass", { error: String(error) });
      report = {
        complete: false,
        plan: undefined,
        done: emptyDone(),
        problems: [String(error)],
        paused: new Set(),
      };
    }
    if (!admissionOnly) {
      this.#lastPass = { at: this.#now(), complete: report.complete };
      if (report.plan) this.#paused = report.paused;
    }
    // A stack Buildkite no longer knows (deregistered by a replica shutting down, say):
    // registered again before the next pass.
    if (report.stackMissing) this.#registered = false;
    options.metrics?.pass(report.complete, (this.#now() - started) / 1000);
    return report;
  }
}

function emptyDone(): PassReport["done"] {
  return { schedule: 0, fail: 0, notify: 0, stop: 0, hold: 0, resume: 0, delete: 0 };
}
