import { OndemandEksError } from "@ondemand-eks/core";
import { formatProblem, PodLibraryError } from "@ondemand-eks/pod-library";
import { InputTooLargeError } from "./io.js";

/** A problem with what the user gave the CLI; its message is shown as is. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/**
 * One line for the user, never a stack trace: the message of an error we expect (bad
 * input, bad settings, a broken library), or a short note for anything else.
 */
export function describeError(error: unknown): string {
  if (error instanceof PodLibraryError) {
    const [first] = error.problems;
    const more =
      error.problems.length > 1
        ? ` (and ${error.problems.length - 1} more; run "ondemand-eks validate")`
        : "";
    return `pod library: ${first ? formatProblem(first) : "invalid"}${more}`;
  }
  if (
    error instanceof OndemandEksError ||
    error instanceof CliError ||
    error instanceof InputTooLargeError
  ) {
    return error.message.replace(/\s*\n\s*/g, "; ");
  }
  return `unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
}
