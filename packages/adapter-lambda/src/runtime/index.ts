/**
 * `@ondemand-eks/adapter-lambda/runtime`: a whole function built from environment
 * variables, as the bundle deployed to Lambda uses it: configuration checked at init,
 * and the runtime's scheduler (EKS IAM tokens or a kubeconfig; the pod library bundled
 * or in S3) created once; with a cluster token, late events checked in Buildkite. Also the
 * scheduled controller function, and the reader of a cluster token (Secrets Manager or
 * SSM Parameter Store, by ARN).
 *
 * @module
 */
export {
  type ClusterTokenLocation,
  parseClusterTokenArn,
  type ReadClusterTokenOptions,
  readClusterToken,
} from "./cluster-token.js";
export {
  LATE_EVENT_SETTINGS,
  type LambdaConfig,
  type LateEventConfig,
  readLambdaConfig,
} from "./config.js";
export {
  CLUSTER_TOKEN_ARN,
  type ClusterTokenSource,
  type ControllerLambdaConfig,
  LAMBDA_CONTROLLER_SETTINGS,
  readControllerLambdaConfig,
} from "./controller-config.js";
export { type ControllerFunction, createControllerFunction } from "./controller-function.js";
export {
  createLambdaFunction,
  type LambdaFunction,
  type LambdaFunctionOverrides,
} from "./function.js";
export type { LateEventCheck, LateEventCheckOptions } from "./late-event-check.js";
