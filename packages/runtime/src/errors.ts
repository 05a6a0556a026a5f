import { OndemandEksError } from "@ondemand-eks/core";

/**
 * The pod library could not be loaded from where the configuration says it is (an S3
 * prefix that cannot be read, or that holds a broken library at the first load).
 */
export class PodLibraryUnavailableError extends OndemandEksError {
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
