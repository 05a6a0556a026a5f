/**
 * What an S3 pod library needs in the runtime, in one module that the library source
 * imports only for a library in S3 (so the Lambda bundle keeps it, and the AWS S3 client,
 * in a chunk of their own): the library, from `@ondemand-eks/pod-library/s3`, and the
 * client made from the process's credentials.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { awsCredentials } from "./aws-credentials.js";

export { s3Library } from "@ondemand-eks/pod-library/s3";

/**
 * The S3 client of an S3 pod library: the region, credentials and endpoint
 * (`AWS_ENDPOINT_URL_S3`) of `env` (the process's, or the one an entry point was given),
 * with deadlines. The library itself is `@ondemand-eks/pod-library/s3`; its client is
 * made here, where the process's credentials are read.
 *
 * @example
 * ```ts
 * const client = defaultS3Client(process.env);
 * ```
 */
export function defaultS3Client(
  env: Readonly<Record<string, string | undefined>>,
  region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
): S3Client {
  return new S3Client({
    ...(region ? { region } : {}),
    credentials: awsCredentials(env),
    ...(env.AWS_ENDPOINT_URL_S3 ? { endpoint: env.AWS_ENDPOINT_URL_S3, forcePathStyle: true } : {}),
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 },
  });
}
