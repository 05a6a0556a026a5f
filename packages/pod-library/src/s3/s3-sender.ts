import type {
  GetObjectCommand,
  GetObjectCommandOutput,
  ListObjectsV2Command,
  ListObjectsV2CommandOutput,
} from "@aws-sdk/client-s3";

/** What an S3 library passes with each call: a deadline. */
export interface S3SendOptions {
  abortSignal?: AbortSignal;
}

/**
 * What an S3 pod library needs of an S3 client: `send`, for the two commands it uses.
 *
 * Structural on purpose: an `S3Client` of `@aws-sdk/client-s3` v3 fits whatever its
 * version (the class itself has private members, so a copy from another version would not
 * be assignable to ours), and a test can pass a plain object.
 *
 * @example
 * ```ts
 * import { S3Client } from "@aws-sdk/client-s3";
 * const s3: S3Sender = new S3Client({ region: "eu-west-1" });
 * ```
 */
export interface S3Sender {
  send(
    command: ListObjectsV2Command,
    options?: S3SendOptions,
  ): Promise<
    Pick<ListObjectsV2CommandOutput, "Contents" | "NextContinuationToken" | "IsTruncated">
  >;
  send(
    command: GetObjectCommand,
    options?: S3SendOptions,
  ): Promise<Pick<GetObjectCommandOutput, "Body">>;
}
