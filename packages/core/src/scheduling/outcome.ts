/**
 * The outcomes of the scheduling path, and the one place that says what each means for a
 * transport. Adapters map a {@link Disposition}, never an outcome.
 */

interface SubmitCommon {
  /** The object's name and namespace, from the manifest. */
  readonly name: string;
  readonly namespace: string;
  /** Requests made, including retries. */
  readonly attempts: number;
  /** Whether this was a server-side dry run (nothing stored). */
  readonly dryRun: boolean;
}

/**
 * What became of one submission to the API server: the contract a submitter implements
 * (`@ondemand-eks/submitter`'s `Submitter.submit` returns it).
 * - `created`: the API server stored the object (in a dry run: would have).
 * - `exists`: this Buildkite job's Job was already there (a duplicate event, or a retry
 *   whose first answer was lost).
 * - `rejected`: the API server refused the object or the caller (400, 401, 403, 404, 409,
 *   422...); retrying the same request cannot help. `message` is the server's own.
 * - `unavailable`: no answer within the deadline, or the connection cannot work as
 *   configured. Submitting again is safe and ends `created` or `exists`.
 */
export type SubmitOutcome =
  | (SubmitCommon & { readonly outcome: "created" | "exists"; readonly uid?: string })
  | (SubmitCommon & {
      readonly outcome: "rejected";
      readonly status: number;
      readonly reason: string;
      readonly message: string;
    })
  | (SubmitCommon & { readonly outcome: "unavailable"; readonly message: string });

interface Common {
  /** The Buildkite job UUID, once the event was read far enough to know it. */
  readonly job?: string;
  readonly durationMs: number;
}

/** Where a Job went: shared by `created`, `exists` and `dry-run`. */
interface Placed extends Common {
  readonly job: string;
  readonly name: string;
  readonly namespace: string;
  readonly queue: string;
  readonly podDefinition: string;
  readonly attempts: number;
}

/**
 * The one answer for one event:
 * - `created`, `exists`: the Job exists.
 * - `dry-run`: the API server validated the Job without storing it; `result` says what a
 *   real submission would have done. Nothing was scheduled.
 * - `ignored`: not for this scheduler (another event type, queue, a long-polling
 *   definition's own queue).
 * - `invalid`: a bad event, an unknown pod definition, or a Job the API server refused:
 *   retrying cannot help.
 * - `failed`: the API server could not be reached in time: retrying may help.
 */
export type ScheduleOutcome =
  | (Placed & { readonly outcome: "created" | "exists" })
  | (Placed & { readonly outcome: "dry-run"; readonly result: "created" | "exists" })
  | (Common & { readonly outcome: "ignored"; readonly reason: string })
  | (Common & {
      readonly outcome: "invalid";
      readonly reason: string;
      /**
       * Who refused it: `event` (the input is not a job event we can read), `job` (what
       * the job asks for: an unknown definition, bad rules, a queue not served), `access`
       * (a definition the job may not use), or `cluster` (the API server refused the Job).
       * Only `job` and `access` are the pipeline author's to fix.
       */
      readonly refusedBy: "event" | "job" | "access" | "cluster";
    })
  | (Common & { readonly outcome: "failed"; readonly reason: string; readonly attempts?: number });

/**
 * What a transport does with an event:
 * - `acknowledge`: done with it (delete the message, answer 2xx, return, exit 0);
 * - `retry`: keep it, a later try may succeed (leave the message, answer 503, throw, exit 3);
 * - `dead-letter`: it can never succeed; keep it where a person will see it, with its
 *   reason (the queue's dead-letter queue, answer 400, the on-failure destination, exit 1).
 */
export type Disposition = "acknowledge" | "retry" | "dead-letter";

const DISPOSITIONS: Readonly<Record<ScheduleOutcome["outcome"], Disposition>> = {
  created: "acknowledge",
  exists: "acknowledge",
  "dry-run": "acknowledge",
  ignored: "acknowledge",
  invalid: "dead-letter",
  failed: "retry",
};

/**
 * The one decision of what an outcome means for a transport.
 *
 * @example
 * ```ts
 * const outcome = await scheduler.schedule(JSON.parse(message.Body));
 * if (dispositionOf(outcome) === "acknowledge") await deleteMessage(message);
 * ```
 */
export function dispositionOf(outcome: Pick<ScheduleOutcome, "outcome">): Disposition {
  return DISPOSITIONS[outcome.outcome];
}
