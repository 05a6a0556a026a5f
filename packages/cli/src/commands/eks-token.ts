import { InvalidSettingsError } from "@ondemand-eks/core";
import { execCredential, TokenSource } from "@ondemand-eks/eks-auth";
import { awsCredentials } from "@ondemand-eks/runtime";
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
  const region = flags.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new InvalidSettingsError([
      { path: "--region", message: "required (or set AWS_REGION or AWS_DEFAULT_REGION)" },
    ]);
  }
  const source = new TokenSource({
    clusterName: flags.clusterName,
    region,
    credentials: awsCredentials(io.env),
  });
  io.stdout(`${execCredential(await source.get())}\n`);
  return 0;
}
