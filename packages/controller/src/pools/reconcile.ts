import {
  ANNOTATIONS,
  buildDeployment,
  LABELS,
  type Logger,
  type PodDefinition,
  type SchedulerSettings,
} from "@ondemand-eks/core";
import { MANAGED_BY } from "@ondemand-eks/core/manifest";
import { type ClusterApi, ClusterApiError } from "@ondemand-eks/submitter";
import {
  deploymentPath,
  deploymentsPath,
  isOurs,
  OUR_POOLS,
  type StoredDeployment,
} from "./deployments.js";

/** What reconciling did (or, in a dry run, would do) to one pool's Deployment. */
export interface PoolChange {
  /** The pod definition's name; for a deleted Deployment, the one its label names. */
  readonly definition: string;
  readonly name: string;
  readonly namespace: string;
  readonly action: "create" | "update" | "unchanged" | "delete" | "unmanaged";
  /** spec.replicas written, when this reconcile set it. */
  readonly replicas?: number;
  /** For `unmanaged`: what is in the way, and why it is left alone. */
  readonly message?: string;
}

export interface ReconcilePoolsOptions {
  readonly api: ClusterApi;
  /** The whole library: its long-polling definitions are the pools. */
  readonly definitions: readonly PodDefinition[];
  readonly settings: SchedulerSettings;
  /** Where to look for our Deployments whose definition is gone. */
  readonly namespaces: readonly string[];
  /** A server-side dry run: validated and admitted, nothing changes. */
  readonly dryRun?: boolean;
  /**
   * A scaled pool's replicas to set, given what its Deployment has now (undefined: no
   * Deployment yet). Undefined leaves them to whoever scales the pool (our scaler, or
   * KEDA / an HPA). Not asked for fixed pools: their definition says.
   */
  readonly replicasFor?: (
    definition: PodDefinition,
    existing: number | undefined,
  ) => number | undefined;
  readonly log: Logger;
  /** Deadline of each API call. Default the client's. */
  readonly timeoutMs?: number;
}

/**
 * Makes the cluster hold one Deployment per long-polling definition, and no other of
 * ours: each applied with server-side apply under our field manager (created, updated
 * when the definition changed, left as it is otherwise); ours whose definition is gone
 * deleted. A Deployment of a pool's name without our managed-by label belongs to
 * someone else: it is reported `unmanaged` (a warning) and never changed.
 *
 * A scaled pool's apply never carries spec.replicas: replicas the apply owned would be
 * reset to the default the first time an apply left them out. They are written by the
 * create that makes the Deployment, then only by merge patches (`replicasFor` here, the
 * scaler, or KEDA), which the apply does not own or undo.
 *
 * @example
 * ```ts
 * const changes = await reconcilePools({
 *   api, definitions: [...library.values()], settings,
 *   namespaces: [settings.namespace, settings.privilegedNamespace], log,
 * });
 * // [{ definition: "linux-pool", name: "buildkite-agents-linux-pool", action: "create", replicas: 2, ... }]
 * ```
 */
export async function reconcilePools(options: ReconcilePoolsOptions): Promise<PoolChange[]> {
  const { api, log } = options;
  const call = callOptions(options);
  const changes: PoolChange[] = [];
  const kept = new Set<string>();
  for (const definition of options.definitions) {
    if (definition.mode !== "long-polling" || !definition.longPolling) continue;
    const change = await reconcileOne(definition, options);
    kept.add(`${change.namespace}/${change.name}`);
    changes.push(change);
    if (change.action === "unmanaged") {
      log.warn("pool left alone: a Deployment of its name is not ours", {
        definition: change.definition,
        deployment: `${change.namespace}/${change.name}`,
        reason: change.message,
      });
    } else if (change.action !== "unchanged") {
      log.info(`pool ${options.dryRun ? "would be " : ""}${change.action}d`, poolFields(change));
    }
  }
  for (const namespace of new Set(options.namespaces)) {
    const { items } = await api.list<StoredDeployment>(deploymentsPath(namespace), {
      ...call,
      labelSelector: OUR_POOLS,
    });
    for (const stale of items) {
      const name = stale.metadata?.name ?? "";
      // A selector matched, but a label can be edited: check again before deleting.
      if (kept.has(`${namespace}/${name}`) || !isOurs(stale)) continue;
      const uid = stale.metadata?.uid;
      await api.delete(deploymentPath(namespace, name), {
        ...call,
        ...(uid === undefined ? {} : { preconditions: { uid } }),
        ...(options.dryRun ? { dryRun: true } : {}),
      });
      const change: PoolChange = {
        definition: stale.metadata?.labels?.[LABELS.podDefinition] ?? "",
        name,
        namespace,
        action: "delete",
      };
      log.info(`pool ${options.dryRun ? "would be " : ""}deleted`, poolFields(change));
      changes.push(change);
    }
  }
  return changes;
}

async function reconcileOne(
  definition: PodDefinition,
  options: ReconcilePoolsOptions,
): Promise<PoolChange> {
  const { api, settings } = options;
  const call = callOptions(options);
  const planned = buildDeployment({ definition, settings });
  const { name, namespace } = planned.metadata;
  const path = deploymentPath(namespace, name);
  const existing = await readIfAny(api, path, call);
  const base = { definition: definition.name, name, namespace };
  if (existing && !isOurs(existing)) {
    const manager = existing.metadata?.labels?.[LABELS.managedBy];
    return {
      ...base,
      action: "unmanaged",
      message: `Deployment ${namespace}/${name} exists without the label ${LABELS.managedBy}=${MANAGED_BY}${
        manager === undefined ? "" : ` (it says ${manager})`
      }: someone else made it, so it is never changed or deleted; rename or remove it to let the pool ${definition.name} be made`,
    };
  }
  const scaled = definition.longPolling?.scaling !== undefined;
  const dryRun = options.dryRun ? { dryRun: true } : {};
  if (!existing && scaled) {
    // A new scaled pool is created with its replicas in one write: an apply without them
    // would start it at Kubernetes' default of 1 pod until a patch set the minimum. The
    // create owns spec.replicas as an update, which later applies leave alone.
    const replicas =
      options.replicasFor?.(definition, undefined) ?? definition.longPolling?.replicas ?? 0;
    const body = buildDeployment({ definition, settings, replicas });
    try {
      await api.create(deploymentsPath(namespace), body, { ...call, ...dryRun });
      return { ...base, action: "create", replicas };
    } catch (error) {
      // Made meanwhile (another replica, a user): read again, and judge it as any other.
      if (error instanceof ClusterApiError && error.status === 409) {
        return reconcileOne(definition, options);
      }
      throw error;
    }
  }
  const stored = await api.apply<StoredDeployment>(path, planned, {
    ...call,
    ...dryRun,
    force: true,
  });
  const before = existing?.spec?.replicas;
  let replicas = scaled ? undefined : planned.spec.replicas;
  if (scaled) {
    const wanted = options.replicasFor?.(definition, before);
    const now = stored.spec?.replicas;
    if (wanted !== undefined && wanted !== now) {
      if (!options.dryRun) {
        await api.patch(path, { spec: { replicas: wanted } }, call);
      }
      replicas = wanted;
    }
  }
  if (!existing)
    return { ...base, action: "create", ...(replicas === undefined ? {} : { replicas }) };
  const changed =
    existing.metadata?.annotations?.[ANNOTATIONS.podDefinitionHash] !==
      planned.metadata.annotations[ANNOTATIONS.podDefinitionHash] ||
    (replicas !== undefined && replicas !== before) ||
    // Someone edited the spec where the apply owns it: the apply put it back. (Not the
    // resourceVersion: the Deployment controller's status writes change it any time.)
    stored.metadata?.generation !== existing.metadata?.generation;
  return {
    ...base,
    action: changed ? "update" : "unchanged",
    ...(replicas === undefined || !changed ? {} : { replicas }),
  };
}

async function readIfAny(
  api: ClusterApi,
  path: string,
  call: { timeoutMs?: number },
): Promise<StoredDeployment | undefined> {
  try {
    return await api.get<StoredDeployment>(path, call);
  } catch (error) {
    if (error instanceof ClusterApiError && error.status === 404) return undefined;
    throw error;
  }
}

function callOptions(options: ReconcilePoolsOptions): { timeoutMs?: number } {
  return options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
}

function poolFields(change: PoolChange): Record<string, unknown> {
  return {
    definition: change.definition,
    deployment: `${change.namespace}/${change.name}`,
    ...(change.replicas === undefined ? {} : { replicas: change.replicas }),
  };
}
