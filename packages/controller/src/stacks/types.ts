import type { RetryPolicy } from "@ondemand-eks/submitter";

/**
 * What the {@link StacksClient} takes and gives back.
 */

/** How a {@link StacksClient} reaches Buildkite, and the collaborators tests replace. */
export interface StacksClientOptions {
  /** The Stacks API's base: `https://agent.buildkite.com/v3`, or an emulator's `url`. */
  endpoint: string;
  /** The cluster agent token. Sent only in `Authorization`; never logged, never in errors. */
  token: string;
  /** The budget of one method call, retries and all pages or chunks included; 10 s by default. */
  timeoutMs?: number;
  /** The budget of one HTTP attempt; 5 s (or `timeoutMs` if less) by default. */
  attemptTimeoutMs?: number;
  /** Waits between attempts; @ondemand-eks/submitter's `DEFAULT_RETRY_POLICY` by default. */
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
  /** Jitter's source of randomness in [0, 1); `Math.random` by default. */
  random?: () => number;
  /** The clock for deadlines, in milliseconds; `Date.now` by default. */
  now?: () => number;
  /** How the client waits before a retry; `setTimeout` by default (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  /** Called after every HTTP attempt with the call's name, status (or "error") and seconds taken. */
  onRequest?: (call: string, status: number | "error", seconds: number) => void;
}

/** Who the cluster token belongs to (`GET token`). */
export interface StacksIdentity {
  readonly organizationSlug: string;
  readonly organizationUuid: string;
  readonly clusterUuid: string;
  readonly clusterName?: string;
}

/** A stack to register: its key, the cluster queue it serves, and free-form metadata. */
export interface StackRegistration {
  readonly key: string;
  readonly queueKey: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A scheduled job as `scheduledJobs` lists it: its uuid and priority, and the raw object. */
export interface StacksJob {
  readonly uuid: string;
  readonly priority: number;
  /** The job object exactly as Buildkite sent it, for the caller's own parser. */
  readonly raw: unknown;
}

/** Every scheduled job of a queue, and whether the queue's dispatch is paused. */
export interface ScheduledJobs {
  /**
   * True when someone paused dispatch for the cluster queue. Buildkite still lists the
   * queue's jobs; a stack should then reserve and start none of them.
   */
  readonly paused: boolean;
  /** In Buildkite's order (highest priority first, then oldest), each job once. */
  readonly jobs: readonly StacksJob[];
}

/** What `reserve` got: the jobs now this stack's, and the ones it could not take. */
export interface Reservation {
  readonly reserved: readonly string[];
  readonly notReserved: readonly string[];
}

/** A job failed by the stack: its exit status and the reason shown in its timeline. */
export interface JobFailure {
  readonly exitStatus: number;
  /** Cropped to 4 KiB, as buildkite/stacksapi does. */
  readonly detail: string;
}

/** A note for a job's timeline (cropped to 255 bytes, as agent-stack-k8s does). */
export interface StackNotification {
  readonly uuid: string;
  readonly detail: string;
  /** When it happened; now by default. */
  readonly at?: Date;
}
