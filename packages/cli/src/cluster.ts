import { EksAuthError, eksAuth } from "@ondemand-eks/eks-auth";
import {
  type ClusterAuth,
  ClusterAuthError,
  inClusterAuth,
  kubeconfigAuth,
  type SubmitOutcome,
  Submitter,
} from "@ondemand-eks/submitter";
import { awsCredentials } from "./aws-credentials.js";
import { CliError } from "./errors.js";
import type { CliIo } from "./io.js";

/** Flags that say which cluster to talk to and how long to try. */
export interface ClusterFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly inCluster?: boolean;
  readonly eksCluster?: string;
  readonly region?: string;
  readonly timeout?: string;
}

/** Exit status when the API server could not be reached in time: retrying may help. */
export const EXIT_UNAVAILABLE = 3;

async function clusterAuth(flags: ClusterFlags, io: CliIo): Promise<ClusterAuth> {
  try {
    if (flags.eksCluster) {
      if (flags.kubeconfig || flags.context || flags.inCluster) {
        throw new CliError(
          "--eks-cluster cannot be combined with --kubeconfig, --context or --in-cluster",
        );
      }
      return await eksAuth({
        clusterName: flags.eksCluster,
        region: regionOf(flags, io),
        credentials: awsCredentials(io),
      });
    }
    if (flags.inCluster) {
      if (flags.kubeconfig || flags.context) {
        throw new CliError("--in-cluster cannot be combined with --kubeconfig or --context");
      }
      return await inClusterAuth({ env: io.env });
    }
    const path = flags.kubeconfig ?? io.env.KUBECONFIG;
    return await kubeconfigAuth({
      // A KUBECONFIG list (a:b) is merged by client-node's own loader.
      ...(path && !path.includes(":") ? { path } : {}),
      ...(flags.context ? { context: flags.context } : {}),
    });
  } catch (error) {
    if (error instanceof ClusterAuthError || error instanceof EksAuthError) {
      throw new CliError(error.message);
    }
    throw error;
  }
}

/** --region, else AWS_REGION, else AWS_DEFAULT_REGION. */
export function regionOf(flags: { readonly region?: string }, io: CliIo): string {
  const region = flags.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (!region) throw new CliError("--region: required for EKS (or set AWS_REGION)");
  return region;
}

function timeoutMs(raw: string | undefined): number {
  if (raw === undefined) return 30_000;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(seconds >= 0.1) || seconds > 3600) {
    throw new CliError(`--timeout: expected seconds from 0.1 to 3600, received "${raw}"`);
  }
  return Math.round(seconds * 1000);
}

/** A Submitter for the cluster the flags name; the caller closes it. */
export async function submitterFor(flags: ClusterFlags, io: CliIo): Promise<Submitter> {
  const timeout = timeoutMs(flags.timeout);
  return new Submitter({ auth: await clusterAuth(flags, io), timeoutMs: timeout });
}

/** One line for an outcome, e.g. `created: Job buildkite/buildkite-0190...`. */
export function describeOutcome(outcome: SubmitOutcome, kind: string): string {
  const what = `${kind} ${outcome.namespace}/${outcome.name}`;
  const dry = outcome.dryRun ? " (dry run: nothing stored)" : "";
  switch (outcome.outcome) {
    case "created":
      return `created: ${what}${dry}`;
    case "exists":
      return `exists: ${what} was already there${dry}`;
    case "rejected":
      return `rejected: ${what}: ${outcome.status} ${outcome.reason}: ${outcome.message}`;
    case "unavailable":
      return `unavailable: ${what} not submitted after ${outcome.attempts} attempt${outcome.attempts === 1 ? "" : "s"}: ${outcome.message}`;
  }
}

/** Exit status for an outcome: 0 done, 1 refused (fix the input), 3 retry later. */
export function outcomeStatus(outcome: SubmitOutcome): number {
  if (outcome.outcome === "rejected") return 1;
  if (outcome.outcome === "unavailable") return EXIT_UNAVAILABLE;
  return 0;
}
