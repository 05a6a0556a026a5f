/**
 * The one error model of every `@ondemand-eks/*` package: an {@link OndemandEksError}
 * with a string `code` from {@link ErrorCode}. Match on `code`, not on `instanceof`: an
 * application that loads both the ESM and the CommonJS copy of a package has two
 * classes of each name, but one code.
 */

/** One problem found in an input: where it is, and what was expected there. */
export interface Issue {
  /** Dotted path to the field, `job.agent_query_rules[2]`; empty for the input itself. */
  readonly path: string;
  readonly message: string;
}

/**
 * Every code an error of an `@ondemand-eks/*` package can carry, by package. Adding one
 * is a change to the public API.
 */
export const ERROR_CODES = [
  // @ondemand-eks/core
  "INVALID_EVENT",
  "INVALID_POD_DEFINITION",
  "UNKNOWN_POD_DEFINITION",
  "INVALID_SETTINGS",
  // @ondemand-eks/pod-library, and the library sources of @ondemand-eks/runtime
  "INVALID_POD_LIBRARY",
  "POD_LIBRARY_UNAVAILABLE",
  // @ondemand-eks/submitter
  "INVALID_CLUSTER_CONFIG",
  "API_STATUS",
  // @ondemand-eks/eks-auth
  "EKS_INVALID_OPTIONS",
  "EKS_CLUSTER_NOT_FOUND",
  "EKS_ACCESS_DENIED",
  "EKS_CLUSTER_NOT_ACTIVE",
  "EKS_DESCRIBE_FAILED",
  "EKS_CREDENTIALS",
  // the adapters and the command
  "SCHEDULE_FAILED",
  "INPUT_TOO_LARGE",
  "USAGE",
] as const;

/** The `code` of an {@link OndemandEksError}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

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

/**
 * Base class of every error thrown by `@ondemand-eks/*` packages. An error about an
 * input carries its {@link Issue}s; any other carries a message (and no issues).
 */
export class OndemandEksError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly Issue[];

  constructor(
    code: ErrorCode,
    problem: readonly Issue[] | string,
    options?: { readonly cause?: unknown },
  ) {
    super(typeof problem === "string" ? problem : summary(problem), options);
    this.name = "OndemandEksError";
    this.code = code;
    this.issues = typeof problem === "string" ? [] : problem;
  }
}

/**
 * Whether `error` is an error of an `@ondemand-eks/*` package, from any copy of it (ESM
 * or CommonJS): its `code` is checked, not its class.
 *
 * @example
 * ```ts
 * if (hasErrorCode(error, "UNKNOWN_POD_DEFINITION")) console.error(error.message);
 * ```
 */
export function hasErrorCode<C extends ErrorCode>(
  error: unknown,
  ...codes: readonly C[]
): error is OndemandEksError & { readonly code: C } {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && (codes as readonly string[]).includes(code);
}

/**
 * Whether `error` is an error of an `@ondemand-eks/*` package, from any copy of the
 * package (its `code` is checked, not its class).
 */
export function isOndemandEksError(error: unknown): error is OndemandEksError {
  return hasErrorCode(error, ...ERROR_CODES);
}

/** The input is not a well-formed Buildkite event. Retrying it can never help. */
export class InvalidEventError extends OndemandEksError {
  constructor(issues: readonly Issue[], options?: { readonly cause?: unknown }) {
    super("INVALID_EVENT", issues, options);
    this.name = "InvalidEventError";
  }
}

/** A pod definition breaks the format's rules (or rules Kubernetes will enforce). */
export class InvalidPodDefinitionError extends OndemandEksError {
  constructor(issues: readonly Issue[], options?: { readonly cause?: unknown }) {
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

/**
 * Settings are not valid. Each issue's path names where the bad value came from when the
 * loader knows it (`ONDEMAND_EKS_QUEUES`, `--namespace`, `config ci.yaml: namespace`),
 * otherwise the setting's key.
 */
export class InvalidSettingsError extends OndemandEksError {
  constructor(issues: readonly Issue[], options?: { readonly cause?: unknown }) {
    super("INVALID_SETTINGS", issues, options);
    this.name = "InvalidSettingsError";
    // Settings are read once, at start: say every problem, not the first and a count.
    if (issues.length > 1) {
      this.message = `${issues.length} problems:\n${formatIssues(issues).replace(/^/gm, "  ")}`;
    }
  }
}
