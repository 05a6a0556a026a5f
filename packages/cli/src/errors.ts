import { formatIssues, type Issue, isOndemandEksError, OndemandEksError } from "@ondemand-eks/core";

/**
 * A problem with how the command was called (code `USAGE`, exit 2): its message is shown
 * as is, or its issues one per line (flags whose values do not parse, each named).
 */
export class UsageError extends OndemandEksError {
  constructor(problem: string | readonly Issue[]) {
    super("USAGE", problem);
    this.name = "UsageError";
  }
}

/** Input past the size limit (code `INPUT_TOO_LARGE`); its message is shown to the user as is. */
export class InputTooLargeError extends OndemandEksError {
  constructor(limit: number) {
    super("INPUT_TOO_LARGE", `input is larger than ${limit} bytes`);
    this.name = "InputTooLargeError";
  }
}

/** A pod library's problems, as `PodLibraryError` carries them (read by shape, not class). */
interface WithProblems {
  readonly problems: readonly unknown[];
}

/**
 * One line for the user, never a stack trace: the message of an error we expect (bad
 * input, bad settings, a broken library), or a short note for anything else.
 */
export function describeError(error: unknown): string {
  if (!isOndemandEksError(error)) {
    return `unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (error.code === "INVALID_POD_LIBRARY") {
    const count = (error as unknown as WithProblems).problems?.length ?? error.issues.length;
    const [first] = error.message.split("\n");
    const more = count > 1 ? ` (and ${count - 1} more; run "ondemand-eks validate")` : "";
    return `pod library: ${first ?? "invalid"}${more}`;
  }
  if (error.code === "INVALID_CLUSTER_CONFIG") {
    return `${error.message} (pass --kubeconfig, set KUBECONFIG, or use --in-cluster or --eks-cluster)`;
  }
  if (error.issues.length > 1) {
    // Every problem, one per line (InvalidSettingsError's own message is this already).
    return `${error.issues.length} problems:\n${formatIssues(error.issues).replace(/^/gm, "  ")}`;
  }
  return error.message.replace(/\s*\n\s*/g, "; ");
}
