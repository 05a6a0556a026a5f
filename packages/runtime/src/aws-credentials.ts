import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { AwsCredentialIdentityProvider } from "@smithy/types";

/**
 * AWS credentials in the AWS SDK's order, read from `env` (a process's environment,
 * or a test's): a named profile (AWS_PROFILE) first, then keys in the environment, then
 * the rest of the default chain (SSO, web identity, container and instance credentials).
 */
export function awsCredentials(
  env: Readonly<Record<string, string | undefined>>,
): AwsCredentialIdentityProvider {
  if (env.AWS_PROFILE) return defaultProvider({ profile: env.AWS_PROFILE });
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    const expiration = env.AWS_CREDENTIAL_EXPIRATION
      ? new Date(env.AWS_CREDENTIAL_EXPIRATION)
      : undefined;
    const identity = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      ...(expiration && !Number.isNaN(expiration.getTime()) ? { expiration } : {}),
    };
    return async () => identity;
  }
  return defaultProvider();
}
