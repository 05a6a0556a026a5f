import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import type { Logger } from "@ondemand-eks/core";
import { formatProblem, type LibraryProblem, PodLibraryUnavailableError } from "../errors.js";
import { buildPodLibrary } from "../library.js";
import {
  type DefinitionFile,
  MAX_DEFINITION_BYTES,
  parseDefinitionText,
} from "../read-definitions.js";
import type { PodLibrarySource } from "../source.js";
import type { S3Sender } from "./s3-sender.js";

export interface S3LibraryOptions {
  /** An `S3Client` (any v3 version), or anything with its `send`. */
  client: S3Sender;
  bucket: string;
  /** Key prefix ("" or ending in "/"); objects directly under it are read, like a directory. */
  prefix: string;
  /** How long a loaded library is used before S3 is asked again. */
  ttlMs: number;
  /** Deadline of the first load, all calls together. Default 8 s (Lambda's init has 10). */
  loadTimeoutMs?: number;
  /**
   * Deadline of a reload, all calls together. Default 5 s: an event waits for it, and
   * must keep most of the function's time for its submission.
   */
  reloadTimeoutMs?: number;
  /** Most definition files under the prefix. Default {@link MAX_S3_DEFINITIONS}. */
  maxDefinitions?: number;
  /** Keys per listing page (S3's own limit is 1,000). */
  pageSize?: number;
  now?: () => number;
  /** Told (warn) when a reload failed and the previous library stays in use. */
  log?: Logger;
}

/** The most definition files one prefix may hold: a library, not a data set. */
export const MAX_S3_DEFINITIONS = 2_000;
/** Listing pages one load may read, other objects included, before it gives up. */
const MAX_PAGES = 50;

const DEFINITION_KEY = /\.ya?ml$/;

interface Listed {
  key: string;
  etag: string;
}

/**
 * The pod library kept under an S3 prefix (as the original Elastic CI Stack setup kept
 * it), loaded at init and reloaded once its TTL has passed. A reload first lists the
 * prefix: when no object changed (same keys and ETags) the library is kept without a
 * single GET. When a reload fails or misses its deadline (S3 unreachable, a broken
 * definition pushed) the previous library stays in use and the failure is logged; it is
 * retried a TTL later. Concurrent events share one reload.
 *
 * @example
 * ```ts
 * import { S3Client } from "@aws-sdk/client-s3";
 * const source = await s3Library({ client: new S3Client({}), bucket: "ci", prefix: "pods/", ttlMs: 60_000 });
 * const library = await source.get();
 * ```
 */
export async function s3Library(options: S3LibraryOptions): Promise<PodLibrarySource> {
  const now = options.now ?? Date.now;
  const where = `s3://${options.bucket}/${options.prefix}`;
  const maxDefinitions = options.maxDefinitions ?? MAX_S3_DEFINITIONS;

  const list = async (signal: AbortSignal): Promise<Listed[]> => {
    const listed: Listed[] = [];
    let token: string | undefined;
    for (let page = 1; ; page++) {
      const answer = await options.client.send(
        new ListObjectsV2Command({
          Bucket: options.bucket,
          Prefix: options.prefix,
          Delimiter: "/",
          ...(options.pageSize ? { MaxKeys: options.pageSize } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
        { abortSignal: signal },
      );
      for (const object of answer.Contents ?? []) {
        if (!object.Key || !DEFINITION_KEY.test(object.Key)) continue;
        if ((object.Size ?? 0) > MAX_DEFINITION_BYTES) {
          throw new PodLibraryUnavailableError(
            `s3://${options.bucket}/${object.Key}: ${object.Size} bytes, more than the ${MAX_DEFINITION_BYTES} a definition may have`,
          );
        }
        listed.push({ key: object.Key, etag: object.ETag ?? "" });
      }
      if (listed.length > maxDefinitions) {
        throw new PodLibraryUnavailableError(
          `${where}: more than ${maxDefinitions} definition files`,
        );
      }
      if (!answer.IsTruncated) break;
      // A truncated page without a way on would silently load part of the library.
      if (!answer.NextContinuationToken) {
        throw new PodLibraryUnavailableError(
          `${where}: listing truncated without a continuation token`,
        );
      }
      if (page >= MAX_PAGES) {
        throw new PodLibraryUnavailableError(
          `${where}: more than ${MAX_PAGES} pages of objects to list`,
        );
      }
      token = answer.NextContinuationToken;
    }
    return listed.sort((a, b) => (a.key < b.key ? -1 : 1));
  };

  const read = async (
    { key }: Listed,
    signal: AbortSignal,
  ): Promise<{ file?: DefinitionFile; problems: LibraryProblem[] }> => {
    const answer = await options.client.send(
      new GetObjectCommand({ Bucket: options.bucket, Key: key }),
      { abortSignal: signal },
    );
    const text = (await answer.Body?.transformToString("utf8")) ?? "";
    const file = key.slice(options.prefix.length);
    if (Buffer.byteLength(text) > MAX_DEFINITION_BYTES) {
      return { problems: [{ file, path: "", message: `more than ${MAX_DEFINITION_BYTES} bytes` }] };
    }
    const parsed = parseDefinitionText(file, text);
    const stem = file.replace(DEFINITION_KEY, "");
    return parsed.problems.length > 0
      ? { problems: parsed.problems }
      : { file: { file, stem, content: parsed.content }, problems: [] };
  };

  const load = async (listed: Listed[], signal: AbortSignal) => {
    if (listed.length === 0)
      throw new PodLibraryUnavailableError(`${where}: no *.yaml or *.yml definitions`);
    const files: DefinitionFile[] = [];
    const problems: LibraryProblem[] = [];
    // A few reads at a time: quick for a library of dozens, gentle for one of thousands.
    const queue = [...listed];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const result = await read(next, signal);
        if (result.file) files.push(result.file);
        problems.push(...result.problems);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const built = buildPodLibrary(files.sort((a, b) => (a.file < b.file ? -1 : 1)));
    problems.push(...built.problems);
    if (!built.library || problems.length > 0) {
      throw new PodLibraryUnavailableError(
        `${where}: pod library has problems:\n${problems.map(formatProblem).join("\n")}`,
      );
    }
    return { library: built.library, listed };
  };

  let current: Awaited<ReturnType<typeof load>>;
  try {
    const signal = AbortSignal.timeout(options.loadTimeoutMs ?? 8_000);
    current = await load(await list(signal), signal);
  } catch (error) {
    if (error instanceof PodLibraryUnavailableError) throw error;
    // NoSuchBucket, AccessDenied, a timeout: said with the place it happened.
    const { name, message } = error as Error;
    throw new PodLibraryUnavailableError(`${where}: cannot be read: ${name}: ${message}`, {
      cause: error,
      retryable: true,
    });
  }
  let loadedAt = now();
  let reloading: Promise<void> | undefined;

  const reload = async () => {
    try {
      const signal = AbortSignal.timeout(options.reloadTimeoutMs ?? 5_000);
      const listed = await list(signal);
      const same =
        listed.length === current.listed.length &&
        listed.every(
          (o, i) => o.key === current.listed[i]?.key && o.etag === current.listed[i]?.etag,
        );
      if (!same) current = await load(listed, signal);
    } catch (error) {
      const { name, message } = error as Error;
      options.log?.warn("pod library reload failed; keeping the previous one", {
        library: where,
        error: error instanceof PodLibraryUnavailableError ? message : `${name}: ${message}`,
      });
    } finally {
      // Failed or not, wait a TTL before asking again: S3 trouble must not slow every event.
      loadedAt = now();
    }
  };

  return {
    async get() {
      if (now() - loadedAt >= options.ttlMs) {
        reloading ??= reload().finally(() => {
          reloading = undefined;
        });
        await reloading;
      }
      return current.library;
    },
  };
}
