/**
 * `@ondemand-eks/adapter-lambda/runtime`: a whole function built from environment
 * variables, as the bundle deployed to Lambda uses it: configuration checked at init,
 * and the runtime's scheduler (EKS IAM tokens or a kubeconfig; the pod library bundled
 * or in S3) created once.
 *
 * @module
 */
export { type LambdaConfig, readLambdaConfig } from "./config.js";
export {
  createLambdaFunction,
  type LambdaFunction,
  type LambdaFunctionOverrides,
} from "./function.js";
