import type { Logger } from "@ondemand-eks/core";
import {
  bundledLibraryDir,
  loadPodLibrary,
  type PodLibrarySource,
} from "@ondemand-eks/pod-library";
import type { S3Sender } from "@ondemand-eks/pod-library/s3";
import type { LibraryConfig } from "./config.js";

export type { PodLibrarySource };

/** A library directory: read once, at start. */
export async function directoryLibrary(path: string): Promise<PodLibrarySource> {
  const library = await loadPodLibrary(path);
  return { get: async () => library };
}

export interface LibrarySourceOptions {
  /** The environment an S3 client is made from (region, credentials, endpoint). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The region of that client, when the settings name one. */
  readonly region?: string;
  /** The S3 client of an `s3` library; default one made from `env`. */
  readonly s3?: S3Sender;
  readonly log: Logger;
}

/**
 * The library source a configuration names. The S3 source (and the S3 client under it)
 * is imported only for an S3 library: a function with its library bundled does not pay
 * for it at every cold start.
 */
export async function librarySourceFor(
  library: LibraryConfig,
  options: LibrarySourceOptions,
): Promise<PodLibrarySource> {
  switch (library.kind) {
    case "bundled":
      return directoryLibrary(bundledLibraryDir());
    case "directory":
      return directoryLibrary(library.path);
    case "s3": {
      const { s3Library, defaultS3Client } = await import("./s3-library.js");
      const where = { bucket: library.bucket, prefix: library.prefix, ttlMs: library.ttlMs };
      // A client given by the caller is the caller's to close.
      if (options.s3) return s3Library({ client: options.s3, ...where, log: options.log });
      const client = defaultS3Client(options.env, options.region);
      const source = await s3Library({ client, ...where, log: options.log });
      return { ...source, close: () => client.destroy() };
    }
  }
}
