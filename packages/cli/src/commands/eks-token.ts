import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { EksAuthError, execCredential, TokenSource } from "@ondemand-eks/eks-auth";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { regionOf } from "../cluster.js";
import { CliError } from "../errors.js";
import type { CliIo } from "../io.js";

export interface EksTokenFlags {
  readonly clusterName: string;
  readonly region?: string;
}

/** Keys from the CLI's environment when it has them; the SDK's whole chain otherwise. */
function credentialsFrom(io: CliIo): AwsCredentialIdentityProvider {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = io.env;
  if (AWS_ACCESS_KEY_ID && AWS_SECRET_ACCESS_KEY) {
    return async () => ({
      accessKeyId: AWS_ACCESS_KEY_ID,
      secretAccessKey: AWS_SECRET_ACCESS_KEY,
      ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
    });
  }
  return defaultProvider();
}

/**
 * `ondemand-eks eks-token --cluster-name NAME [--region R]`: what `aws eks get-token`
 * prints, so a kubeconfig can use it as its exec credential plugin. Needs no EKS call.
 */
export async function eksToken(flags: EksTokenFlags, io: CliIo): Promise<number> {
  const source = new TokenSource({
    clusterName: flags.clusterName,
    region: regionOf(flags, io),
    credentials: credentialsFrom(io),
  });
  try {
    io.stdout(`${execCredential(await source.get())}\n`);
    return 0;
  } catch (error) {
    if (error instanceof EksAuthError) throw new CliError(error.message);
    throw error;
  }
}
