import { type Disposition, hasErrorCode } from "@ondemand-eks/core";

/**
 * The command's exit statuses, decided here and nowhere else: 0 done (also when the
 * event is not for us), 1 invalid input or settings, or the API server refused the
 * object, 2 usage error (an unknown flag, a missing argument, a flag whose value does
 * not parse: a `UsageError`), 3 the API server could not be reached before the timeout
 * (retrying may help). A bad value from the environment or a config file is invalid
 * settings (1): the command line was right.
 */
export const EXIT = { done: 0, invalid: 1, usage: 2, unavailable: 3 } as const;

/** The exit status of an outcome's disposition. */
export function exitFor(disposition: Disposition): number {
  switch (disposition) {
    case "acknowledge":
      return EXIT.done;
    case "dead-letter":
      return EXIT.invalid;
    case "retry":
      return EXIT.unavailable;
  }
}

/** The exit status of an error that ended a command. */
export function exitForError(error: unknown): number {
  if (hasErrorCode(error, "USAGE")) return EXIT.usage;
  // Credentials that could not be had, a library that could not be read: for now.
  if ((error as { retryable?: unknown } | undefined)?.retryable === true) return EXIT.unavailable;
  return EXIT.invalid;
}

/** The `--help` text that explains them. */
export const EXIT_HELP = `
Exit status: ${EXIT.done} done (also when the event is not for us), ${EXIT.invalid} invalid input or settings,
or the API server refused the object, ${EXIT.usage} usage error (an unknown flag, a flag value that does not
parse), ${EXIT.unavailable} the API server could not be reached before the timeout (retrying may help).
Settings come from, in rising precedence: defaults, the config file, environment
variables, flags.`;
