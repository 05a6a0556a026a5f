import type { SubmitOutcome as CoreSubmitOutcome } from "@ondemand-eks/core";

/**
 * What became of one submission: `@ondemand-eks/core`'s `SubmitOutcome`, the contract
 * `Submitter.submit` implements. Every path ends in exactly one of these.
 */
export type SubmitOutcome = CoreSubmitOutcome;

type Placed = Extract<SubmitOutcome, { readonly outcome: "created" | "exists" }>;

/** The API server stored the Job (or, in a dry run, would have). */
export type Created = Placed & { readonly outcome: "created" };

/** This Buildkite job's Job already existed: a duplicate event, or a retry whose first answer was lost. */
export type Exists = Placed & { readonly outcome: "exists" };

/** The API server refused the object or the caller; retrying the same request cannot help. */
export type Rejected = Extract<SubmitOutcome, { readonly outcome: "rejected" }>;

/** No answer within the deadline, or the connection cannot work as configured. */
export type Unavailable = Extract<SubmitOutcome, { readonly outcome: "unavailable" }>;
