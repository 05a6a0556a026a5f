import { OndemandEksError } from "@ondemand-eks/core";

/**
 * The pod library could not be loaded from where the configuration says it is (an S3
 * prefix that cannot be read, or that holds a broken library at the first load).
 */
export class PodLibraryUnavailableError extends OndemandEksError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super("POD_LIBRARY_UNAVAILABLE", message, options);
    this.name = "PodLibraryUnavailableError";
  }
}
