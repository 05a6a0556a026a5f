import { hasErrorCode, InvalidSettingsError, type Issue } from "@ondemand-eks/core";
import {
  checkClusterName,
  execCredential,
  execCredentialApiVersion,
  partitionOf,
  TokenSource,
} from "@ondemand-eks/eks-auth";
import { awsCredentials } from "@ondemand-eks/runtime";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit.js";
import type { CliIo } from "../io.js";

export interface EksTokenFlags {
  readonly clusterName: string;
  readonly region?: string;
}

/** The message of eks-auth's check of an option, if it fails. */
function problemOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (!hasErrorCode(error, "EKS_INVALID_OPTIONS")) throw error;
    return error.issues.map((issue) => issue.message).join("; ");
  }
}

/**
 * `ondemand-eks eks-token --cluster-name NAME [--region R]`: what `aws eks get-token`
 * prints, so a kubeconfig can use it as its exec credential plugin, in the apiVersion
 * the client asks for in `KUBERNETES_EXEC_INFO` (v1 or v1beta1; v1beta1 when it does
 * not say). Needs no EKS call. A flag whose value cannot be a cluster name or region is
 * a usage error; a bad AWS_REGION or KUBERNETES_EXEC_INFO is invalid settings.
 */
export async function eksToken(flags: EksTokenFlags, io: CliIo): Promise<number> {
  const variable = ["AWS_REGION", "AWS_DEFAULT_REGION"].find((name) => io.env[name]);
  const region = flags.region ?? (variable ? io.env[variable] : undefined);
  if (!region) {
    throw new InvalidSettingsError([
      { path: "--region", message: "required (or set AWS_REGION or AWS_DEFAULT_REGION)" },
    ]);
  }
  const usage: Issue[] = [];
  const name = problemOf(() => checkClusterName(flags.clusterName));
  if (name) usage.push({ path: "--cluster-name", message: name });
  const where = flags.region !== undefined ? "--region" : (variable as string);
  const regionProblem = problemOf(() => partitionOf(region));
  if (regionProblem && where === "--region") usage.push({ path: where, message: regionProblem });
  if (usage.length > 0) throw new UsageError(usage);
  if (regionProblem) throw new InvalidSettingsError([{ path: where, message: regionProblem }]);

  const apiVersion = execCredentialApiVersion(io.env.KUBERNETES_EXEC_INFO);
  const source = new TokenSource({
    clusterName: flags.clusterName,
    region,
    credentials: awsCredentials(io.env),
  });
  io.stdout(`${execCredential(await source.get(), { apiVersion })}\n`);
  return EXIT.done;
}
