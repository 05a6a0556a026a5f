import { OndemandEksError } from "@ondemand-eks/core";

/** One problem in a library: the file, the field inside it, and what is wrong. */
export interface LibraryProblem {
  /** File name relative to the library directory (or the directory itself). */
  readonly file: string;
  /** Dotted path inside the definition, `services[0].image`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

/** Renders a problem as `file: path.to.field: message`. */
export function formatProblem(problem: LibraryProblem): string {
  return [problem.file, problem.path, problem.message].filter(Boolean).join(": ");
}

/**
 * A pod library with problems (code `INVALID_POD_LIBRARY`): `problems` holds every one,
 * by file, and `issues` the same with the file leading each path; each line of `message`
 * is one problem.
 */
export class PodLibraryError extends OndemandEksError {
  declare readonly code: "INVALID_POD_LIBRARY";
  readonly problems: readonly LibraryProblem[];

  constructor(problems: readonly LibraryProblem[], options?: { readonly cause?: unknown }) {
    super(
      "INVALID_POD_LIBRARY",
      problems.map((p) => ({
        path: [p.file, p.path].filter(Boolean).join(": "),
        message: p.message,
      })),
      options,
    );
    this.name = "PodLibraryError";
    this.problems = problems;
    this.message = problems.map(formatProblem).join("\n");
  }
}

/**
 * The pod library could not be loaded from where the configuration says it is (code
 * `POD_LIBRARY_UNAVAILABLE`): an S3 prefix that cannot be read, or that holds a broken
 * library at the first load.
 */
export class PodLibraryUnavailableError extends OndemandEksError {
  declare readonly code: "POD_LIBRARY_UNAVAILABLE";
  /**
   * Whether trying again may work: true when the library could not be read (S3 down,
   * a timeout), false when what is there is wrong (no definitions, a broken one, too
   * many files) until someone fixes it.
   */
  readonly retryable: boolean;

  constructor(
    message: string,
    options?: { readonly cause?: unknown; readonly retryable?: boolean },
  ) {
    super("POD_LIBRARY_UNAVAILABLE", message, options);
    this.name = "PodLibraryUnavailableError";
    this.retryable = options?.retryable ?? false;
  }
}
