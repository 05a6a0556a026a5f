import type { PodLibrary } from "./library.js";

/**
 * Gives the pod library to use for the next event: one read at start (a directory), or
 * one kept fresh from a store (`s3Library` in `@ondemand-eks/pod-library/s3`).
 */
export interface PodLibrarySource {
  get(): Promise<PodLibrary>;
  /** Releases what it holds (an S3 client it made). */
  close?(): void;
}
