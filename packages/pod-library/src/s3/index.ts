/**
 * `@ondemand-eks/pod-library/s3`: a pod library kept under an S3 prefix, loaded at start
 * and reloaded when its objects change. A subpath of its own so the main entry never
 * loads the AWS SDK: `@aws-sdk/client-s3` is an optional peer dependency, needed only
 * here (install it beside this package to use it).
 *
 * @module
 */
export { MAX_S3_DEFINITIONS, type S3LibraryOptions, s3Library } from "./s3-library.js";
export type { S3Sender, S3SendOptions } from "./s3-sender.js";
