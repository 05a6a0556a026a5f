/**
 * IAM authentication to Amazon EKS: aws-iam-authenticator tokens (presigned STS
 * GetCallerIdentity), cached and refreshed, and a ClusterAuth for @ondemand-eks/submitter.
 */

export { type ClusterEndpoint, describeCluster } from "./cluster.js";
export { type EksAuthOptions, eksAuth } from "./eks-auth.js";
export type { EksSender } from "./eks-client.js";
export { EksAuthError, type EksAuthErrorCode } from "./errors.js";
export {
  DEFAULT_EXEC_CREDENTIAL_API_VERSION,
  EXEC_CREDENTIAL_API_VERSIONS,
  type ExecCredentialApiVersion,
  execCredential,
  execCredentialApiVersion,
} from "./exec-credential.js";
export { type Partition, partitionOf, stsHostname } from "./partition.js";
export {
  checkClusterName,
  createToken,
  type EksToken,
  PRESIGN_EXPIRES_SECONDS,
  TOKEN_LIFETIME_MS,
  TOKEN_PREFIX,
  type TokenRequest,
} from "./token.js";
export { type CachedToken, TokenSource, type TokenSourceOptions } from "./token-source.js";
