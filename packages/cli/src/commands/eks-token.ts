import { EksAuthError, execCredential, TokenSource } from "@ondemand-eks/eks-auth";
import { awsCredentials } from "../aws-credentials.js";
import { regionOf } from "../cluster.js";
import { CliError } from "../errors.js";
import type { CliIo } from "../io.js";

export interface EksTokenFlags {
  readonly clusterName: string;
  readonly region?: string;
}

/**
 * `ondemand-eks eks-token --cluster-name NAME [--region R]`: what `aws eks get-token`
 * prints, so a kubeconfig can use it as its exec credential plugin. Needs no EKS call.
 */
export async function eksToken(flags: EksTokenFlags, io: CliIo): Promise<number> {
  const source = new TokenSource({
    clusterName: flags.clusterName,
    region: regionOf(flags, io),
    credentials: awsCredentials(io),
  });
  try {
    io.stdout(`${execCredential(await source.get())}\n`);
    return 0;
  } catch (error) {
    if (error instanceof EksAuthError) throw new CliError(error.message);
    throw error;
  }
}
