/**
 * Every error the core throws is an {@link OndemandEksError} with a stable `code`, so a
 * caller can map it (to an HTTP status, an SQS decision, an exit code) in one place.
 */

/** One problem found in an input: where it is, and what was expected there. */
export interface Issue {
  /** Dotted path to the field, `job.agent_query_rules[2]`; empty for the input itself. */
  readonly path: string;
  readonly message: string;
}

export type ErrorCode =
  | "INVALID_EVENT"
  | "INVALID_POD_DEFINITION"
  | "UNKNOWN_POD_DEFINITION"
  | "INVALID_SETTINGS";

/** Renders issues as `path: message`, one per line, or just the message when there is no path. */
export function formatIssues(issues: readonly Issue[]): string {
  return issues
    .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
    .join("\n");
}

function summary(issues: readonly Issue[]): string {
  const [first] = issues;
  if (!first) return "invalid input";
  const line = first.path ? `${first.path}: ${first.message}` : first.message;
  return issues.length > 1 ? `${line} (and ${issues.length - 1} more)` : line;
}

/** Base class of every error thrown by `@ondemand-eks/*` packages. */
export class OndemandEksError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly Issue[];

  constructor(code: ErrorCode, issues: readonly Issue[], options?: { cause?: unknown }) {
    super(summary(issues), options);
    this.name = "OndemandEksError";
    this.code = code;
    this.issues = issues;
  }
}

/** The input is not a well-formed Buildkite event. Retrying it can never help. */
export class InvalidEventError extends OndemandEksError {
  constructor(issues: readonly Issue[], options?: { cause?: unknown }) {
    super("INVALID_EVENT", issues, options);
    this.name = "InvalidEventError";
  }
}

/** A pod definition breaks the format's rules (or rules Kubernetes will enforce). */
export class InvalidPodDefinitionError extends OndemandEksError {
  constructor(issues: readonly Issue[], options?: { cause?: unknown }) {
    super("INVALID_POD_DEFINITION", issues, options);
    this.name = "InvalidPodDefinitionError";
  }
}

/** A job asked for a pod definition the library does not hold. */
export class UnknownPodDefinitionError extends OndemandEksError {
  readonly definition: string;

  constructor(definition: string, known: readonly string[]) {
    const list = known.length > 0 ? known.join(", ") : "none";
    super("UNKNOWN_POD_DEFINITION", [
      {
        path: "",
        message: `no pod definition named ${JSON.stringify(definition)} (known: ${list})`,
      },
    ]);
    this.name = "UnknownPodDefinitionError";
    this.definition = definition;
  }
}

/** Scheduler settings (namespace, secret, queues...) are not valid. */
export class InvalidSettingsError extends OndemandEksError {
  constructor(issues: readonly Issue[], options?: { cause?: unknown }) {
    super("INVALID_SETTINGS", issues, options);
    this.name = "InvalidSettingsError";
  }
}
