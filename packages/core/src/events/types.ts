/** Where an event came from; the builder does not care, logs and metrics do. */
export type EventForm = "eventbridge" | "eventbridge-detail" | "webhook" | "stacks";

/**
 * A Buildkite job that is waiting for an agent, in one shape whatever form it came in.
 * Every string here came from Buildkite users (pipeline authors, committers): treat it as
 * untrusted. The job's command is deliberately absent: the agent fetches it itself.
 */
export interface ScheduledJob {
  /** The job's UUID, lower case. */
  readonly uuid: string;
  /** `key=value` strings as Buildkite sent them. */
  readonly agentQueryRules: readonly string[];
  readonly label: string | undefined;
  readonly stepKey: string | undefined;
  /**
   * Buildkite's dispatch priority (higher first, 0 by default, may be negative), when the
   * event carried it. The controller admits suspended Jobs in this order.
   */
  readonly priority: number | undefined;
  /**
   * When the job became runnable (ms since the epoch), when the event says: an event much
   * older than that is checked against Buildkite before a Job is made for it.
   */
  readonly runnableAt: number | undefined;
  readonly pipeline: {
    readonly slug: string;
    readonly uuid: string | undefined;
    readonly repository: string | undefined;
  };
  readonly build: {
    readonly number: number;
    readonly uuid: string | undefined;
    readonly branch: string | undefined;
    readonly commit: string | undefined;
    readonly message: string | undefined;
    /** The build's page on buildkite.com, when the event carried or implied it. */
    readonly url: string | undefined;
  };
  readonly organization: {
    readonly slug: string | undefined;
    readonly uuid: string | undefined;
  };
  readonly form: EventForm;
}

/** A job that has ended, passed, failed or cancelled: later issues clean up after these. */
export interface FinishedJob {
  readonly uuid: string;
  readonly state: string | undefined;
  readonly exitStatus: number | undefined;
  readonly passed: boolean | undefined;
  /** True when Buildkite cancelled the job (state `canceled` or `canceling`). */
  readonly canceled: boolean;
  readonly form: EventForm;
}

/** What an input turned out to be. Anything but a job event is `ignored`, with the reason. */
export type ParsedEvent =
  | { readonly kind: "scheduled"; readonly job: ScheduledJob }
  | { readonly kind: "finished"; readonly job: FinishedJob }
  | { readonly kind: "ignored"; readonly reason: string };
