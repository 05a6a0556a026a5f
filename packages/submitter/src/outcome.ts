/** What became of one submission. Every path ends in exactly one of these. */
export type SubmitOutcome = Created | Exists | Rejected | Unavailable;

interface Common {
  /** The Job's name and namespace, from the manifest. */
  name: string;
  namespace: string;
  /** Requests made, including retries. */
  attempts: number;
  /** Whether this was a server-side dry run (nothing stored). */
  dryRun: boolean;
}

/** The API server stored the Job (or, in a dry run, would have). */
export interface Created extends Common {
  outcome: "created";
  uid?: string;
}

/** This Buildkite job's Job already existed: a duplicate event, or a retry whose first answer was lost. */
export interface Exists extends Common {
  outcome: "exists";
  uid?: string;
}

/**
 * The API server refused the object or the caller (400, 401, 403, 404, 409 conflict,
 * 422...). Retrying the same request cannot help; `message` is the server's own.
 */
export interface Rejected extends Common {
  outcome: "rejected";
  status: number;
  reason: string;
  message: string;
}

/**
 * No answer within the deadline (the retry budget is spent), or the connection cannot
 * work as configured (TLS trust, an unknown host). The Job may or may not exist if a
 * request was cut off in flight; submitting again is safe and ends `created` or `exists`.
 */
export interface Unavailable extends Common {
  outcome: "unavailable";
  message: string;
}
