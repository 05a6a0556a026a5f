/**
 * `@ondemand-eks/adapter-lambda/runtime`: a whole function built from environment
 * variables, as the bundle deployed to Lambda uses it: configuration checked at init,
 * the submitter (EKS IAM tokens or a kubeconfig) and the pod library (bundled directory
 * or S3 prefix with a TTL) created once.
 *
 * @module
 */
export {
  type ClusterConfig,
  LAMBDA_VARIABLES,
  type LambdaConfig,
  LambdaConfigError,
  type LibraryConfig,
  readLambdaConfig,
} from "./config.js";
export {
  createLambdaFunction,
  type LambdaFunction,
  type LambdaFunctionOverrides,
} from "./function.js";
export { directoryLibrary, type PodLibrarySource } from "./library-source.js";
export {
  MAX_S3_DEFINITIONS,
  S3LibraryError,
  type S3LibraryOptions,
  s3Library,
} from "./s3-library.js";
