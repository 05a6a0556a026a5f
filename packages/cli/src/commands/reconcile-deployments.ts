import { type PoolChange, reconcilePools } from "@ondemand-eks/controller";
import type { PodDefinition } from "@ondemand-eks/core";
import { createScheduler, silentLogger } from "@ondemand-eks/runtime";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit.js";
import type { CliIo } from "../io.js";
import { type CommandFlags, loadCliConfig } from "../settings.js";

export interface ReconcileDeploymentsFlags extends CommandFlags {
  /** `text` (default): a line per change; `json`: `{"changes":[PoolChange...]}`. */
  readonly output?: "text" | "json";
}

/** What a change did, or with `--dry-run` would do, as the line's first words. */
const DONE: Record<PoolChange["action"], readonly [done: string, planned: string]> = {
  create: ["created", "would create"],
  update: ["updated", "would update"],
  unchanged: ["unchanged", "unchanged"],
  delete: ["deleted", "would delete"],
  unmanaged: ["left alone", "would leave alone"],
};

/** One change as a line: `created linux-pool (buildkite/buildkite-agents-linux-pool, 2 replicas)`. */
export function changeLine(change: PoolChange, dryRun: boolean): string {
  const [done, planned] = DONE[change.action];
  const replicas =
    change.replicas === undefined
      ? ""
      : `, ${change.replicas} replica${change.replicas === 1 ? "" : "s"}`;
  const where = `${change.namespace}/${change.name}${replicas}`;
  const why = change.message ? `: ${change.message}` : "";
  return `${dryRun ? planned : done} ${change.definition} (${where})${why}`;
}

/**
 * A scaled pool's replicas when there is no scaler in this process: a new pool starts at
 * its minimum, and one outside its bounds (they were edited) is brought within them.
 * Between them the count is left to whoever scales the pool (the controller, KEDA).
 */
function startWithin(definition: PodDefinition, existing: number | undefined): number | undefined {
  const scaling = definition.longPolling?.scaling;
  if (!scaling) return undefined;
  const now = existing ?? scaling.minReplicas;
  return Math.min(Math.max(now, scaling.minReplicas), scaling.maxReplicas);
}

/** The shape of a ClusterApiError, read by shape: the CLI does not import the submitter. */
interface ApiFailure {
  readonly name: string;
  readonly kind: "rejected" | "unavailable" | "unauthorized";
}

const isApiFailure = (error: unknown): error is ApiFailure =>
  (error as Partial<ApiFailure> | undefined)?.name === "ClusterApiError";

/**
 * `ondemand-eks reconcile deployments`: makes the cluster's pool Deployments match the
 * library once, as the controller does on every pass: one Deployment per long-polling
 * definition (server-side apply), and ours whose definition is gone deleted. For a pod
 * library's own CI, or a cluster without the controller. With `--dry-run` the API server
 * checks every write and stores none. Exit 0 when every change was made (or would be),
 * 1 when an object we did not make holds a pool's name (it is left alone and named) or
 * the API server refused a write, 3 when it could not be reached.
 */
export async function reconcileDeployments(
  flags: ReconcileDeploymentsFlags,
  io: CliIo,
): Promise<number> {
  const { scheduler: config } = await loadCliConfig("reconcile-deployments", flags, io);
  const scheduler = await createScheduler(config, { env: io.env, log: silentLogger });
  const dryRun = config.dryRun;
  let changes: PoolChange[];
  try {
    const submitter = scheduler.submitter;
    if (!submitter) throw new UsageError("reconcile deployments needs a cluster");
    const pods = await scheduler.library();
    const { settings } = config;
    changes = await reconcilePools({
      api: submitter.api(),
      definitions: pods.definitions(),
      settings,
      namespaces: [settings.namespace, settings.privilegedNamespace],
      dryRun,
      replicasFor: startWithin,
      timeoutMs: config.submitTimeoutMs,
      // Every change is printed below: a log line would say it twice.
      log: silentLogger,
    });
  } catch (error) {
    if (!isApiFailure(error)) throw error;
    io.stderr(`ondemand-eks: ${error instanceof Error ? error.message : String(error)}\n`);
    // Retrying may help only when the server did not answer.
    return error.kind === "unavailable" ? EXIT.unavailable : EXIT.invalid;
  } finally {
    await scheduler.close();
  }

  if (flags.output === "json") {
    io.stdout(`${JSON.stringify({ changes })}\n`);
  } else {
    for (const change of changes) {
      // What needs a person goes to stderr, as validate's refusals do.
      const write = change.action === "unmanaged" ? io.stderr : io.stdout;
      write(`${changeLine(change, dryRun)}\n`);
    }
    if (changes.length === 0) io.stdout("no long-polling pod definitions, no pools\n");
  }
  const unmanaged = changes.filter((change) => change.action === "unmanaged");
  if (unmanaged.length === 0) return EXIT.done;
  io.stderr(
    `ondemand-eks: ${unmanaged.length} pool${unmanaged.length === 1 ? "" : "s"} not reconciled: an object we did not make has ${unmanaged.length === 1 ? "its" : "their"} name, and is left alone\n`,
  );
  return EXIT.invalid;
}
