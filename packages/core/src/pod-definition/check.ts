import { InvalidPodDefinitionError, type Issue } from "../errors.js";
import { LABELS } from "../manifest/metadata.js";
import type { Result } from "../result.js";
import { fromZodIssues, zodErrorMap } from "../zod-issues.js";
import { fargateIssues } from "./fargate.js";
import { privilegeIssues } from "./privilege.js";
import {
  type LongPolling,
  type PodAccess,
  type PodDefinition,
  type PodDefinitionSource,
  PodDefinitionSourceSchema,
  type PoolScaling,
} from "./schema.js";

/**
 * Agent environment the scheduler owns; a definition setting them would be overridden or
 * leak a token. The endpoint too, set or not: it is where the agent sends its token, so
 * only the scheduler's settings choose it, and the agent never gets the name twice.
 */
const RESERVED_AGENT_ENV = [
  "BUILDKITE_AGENT_TOKEN",
  "BUILDKITE_AGENT_ENDPOINT",
  "BUILDKITE_AGENT_ACQUIRE_JOB",
  "BUILDKITE_AGENT_REFLECT_EXIT_STATUS",
  "BUILDKITE_AGENT_TAGS",
] as const;
/** Agent tags the scheduler sets from the job (and the definition's name). */
const RESERVED_TAGS = ["queue", "pod", "pod-template"] as const;

/** The name of the one agent container in every pod. */
const AGENT_CONTAINER = "agent";

interface NamedContainer {
  readonly name: string;
  readonly path: string;
  readonly image?: string | undefined;
  /** What it is: the agent, a service (sidecar), or a plain init container. */
  readonly kind: "agent" | "service" | "init";
  readonly restartPolicy?: unknown;
  readonly startupProbe?: unknown;
  readonly readinessProbe?: unknown;
  readonly livenessProbe?: unknown;
  readonly env?:
    | readonly { name: string; value?: string | undefined; valueFrom?: unknown }[]
    | undefined;
  readonly volumeMounts?: readonly { name: string; mountPath: string }[] | undefined;
}

function containersOf(source: PodDefinitionSource): NamedContainer[] {
  const list: NamedContainer[] = [];
  list.push({ ...source.agent, name: AGENT_CONTAINER, path: "agent", kind: "agent" });
  source.pod?.initContainers?.forEach((c, i) => {
    list.push({ ...c, path: `pod.initContainers[${i}]`, kind: "init" });
  });
  source.services?.forEach((c, i) => {
    list.push({ ...c, path: `services[${i}]`, kind: "service" });
  });
  return list;
}

/** The access rules a source gives, without the `null`s that clear a parent's (none: undefined). */
function accessOf(source: PodDefinitionSource): PodAccess | undefined {
  if (source.access == null) return undefined;
  const rules: Record<string, readonly string[]> = {};
  for (const [rule, patterns] of Object.entries(source.access)) {
    if (patterns != null) rules[rule] = patterns;
  }
  return rules;
}

/** Defaults of a scaled pool's fields, other than `maxReplicas` (required). */
const SCALING_DEFAULTS = {
  minReplicas: 0,
  agentsPerPod: 1,
  idleAgents: 0,
  scaleOutCooldownSeconds: 0,
  scaleInCooldownSeconds: 300,
  scaleIn: true,
} as const;

/** A busy agent's time to finish its job after SIGTERM: an hour covers most CI jobs. */
const DEFAULT_STOP_GRACE_SECONDS = 3600;

type LongPollingSource = NonNullable<PodDefinitionSource["longPolling"]>;

/**
 * What the schema cannot see in one file: `extends` may bring `replicas` from a parent
 * and `scaling` from a child, or `minReplicas` and `maxReplicas` from each.
 */
function longPollingIssues(definition: PodDefinitionSource): Issue[] {
  const issues: Issue[] = [];
  const source = definition.longPolling;
  if (definition.pod?.terminationGracePeriodSeconds != null) {
    issues.push({
      path: "pod.terminationGracePeriodSeconds",
      message: "set by longPolling.stopGraceSeconds for long-polling pods: move it there",
    });
  }
  // The builder sets these; a second entry of the same name breaks a server-side apply.
  definition.agent?.env?.forEach((env, i) => {
    if (env.name === "BUILDKITE_AGENT_NAME") {
      issues.push({
        path: `agent.env[${i}]`,
        message: "BUILDKITE_AGENT_NAME is set to the pod's name for long-polling; remove it",
      });
    }
    if (env.name === "BUILDKITE_AGENT_SPAWN" && source?.scaling) {
      issues.push({
        path: `agent.env[${i}]`,
        message: "BUILDKITE_AGENT_SPAWN is set from longPolling.scaling.agentsPerPod; remove it",
      });
    }
  });
  const scaling = source?.scaling;
  if (!scaling) return issues;
  if (source.replicas != null) {
    issues.push({
      path: "longPolling.replicas",
      message:
        "cannot be set with longPolling.scaling (a scaled pool's size follows its queue, from minReplicas to maxReplicas): remove replicas, or set it to null under extends, or remove scaling for a fixed pool",
    });
  }
  const min = scaling.minReplicas ?? SCALING_DEFAULTS.minReplicas;
  if (min > scaling.maxReplicas) {
    issues.push({
      path: "longPolling.scaling.minReplicas",
      message: `expected at most maxReplicas (${scaling.maxReplicas}), got ${min}`,
    });
  }
  return issues;
}

/** The pool with every default filled in. */
function longPollingOf(source: LongPollingSource): LongPolling {
  const stopGraceSeconds = source.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS;
  if (!source.scaling) {
    return { queue: source.queue, replicas: source.replicas ?? 1, stopGraceSeconds };
  }
  const { minReplicas, maxReplicas, maxScaleOutStep, ...rest } = source.scaling;
  const scaling: PoolScaling = {
    ...SCALING_DEFAULTS,
    ...definedOnly(rest),
    minReplicas: minReplicas ?? SCALING_DEFAULTS.minReplicas,
    maxReplicas,
    maxScaleOutStep: maxScaleOutStep ?? maxReplicas,
  };
  // A scaled pool starts at its floor; the scaler (or KEDA) moves it from there.
  return { queue: source.queue, replicas: scaling.minReplicas, scaling, stopGraceSeconds };
}

/** `object` without the keys whose value is `undefined`, so spreading it keeps defaults. */
function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/**
 * Everything wrong with a definition whose `extends` is already resolved: missing
 * required fields, and the rules Kubernetes (or the scheduler) would enforce later.
 */
function podDefinitionIssues(source: PodDefinitionSource): Issue[] {
  const issues: Issue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  if (!source.agent?.image)
    add(
      "agent.image",
      "required: the agent container's image (set here or in the definition this extends)",
    );
  const mode = source.mode ?? "one-shot";
  if (mode === "long-polling" && !source.longPolling)
    add("longPolling", 'required for mode "long-polling" (at least a queue)');
  if (mode === "one-shot" && source.longPolling)
    add("longPolling", 'applies only to mode "long-polling"');
  if (mode === "long-polling") issues.push(...longPollingIssues(source));
  if (mode === "long-polling" && source.access != null) {
    add(
      "access",
      `cannot be enforced for mode "long-polling": its agents take every job on queue ${JSON.stringify(source.longPolling?.queue ?? "")}; restrict who may target that queue in Buildkite instead`,
    );
  }
  if (mode === "long-polling" && source.pod?.activeDeadlineSeconds != null) {
    add(
      "pod.activeDeadlineSeconds",
      "a Deployment's pods run until replaced: remove it for long-polling",
    );
  }

  for (const name of RESERVED_AGENT_ENV) {
    const index = source.agent?.env?.findIndex((e) => e.name === name) ?? -1;
    if (index >= 0) add(`agent.env[${index}]`, `${name} is set by the scheduler; remove it`);
  }
  for (const tag of RESERVED_TAGS) {
    if (source.agent?.tags && Object.hasOwn(source.agent.tags, tag)) {
      add(`agent.tags.${tag}`, `the "${tag}" tag is set by the scheduler from the job; remove it`);
    }
  }

  const volumes = new Set<string>();
  source.pod?.volumes?.forEach((volume, i) => {
    if (volumes.has(volume.name))
      add(`pod.volumes[${i}].name`, `volume name "${volume.name}" is used twice`);
    volumes.add(volume.name);
  });

  const seen = new Map<string, string>();
  for (const container of containersOf(source)) {
    const earlier = seen.get(container.name);
    if (earlier !== undefined) {
      add(
        `${container.path}.name`,
        `container name "${container.name}" is already used by ${earlier}`,
      );
    }
    seen.set(container.name, container.path);
    container.env?.forEach((env, i) => {
      if (env.value !== undefined && env.valueFrom !== undefined) {
        add(`${container.path}.env[${i}]`, "set value or valueFrom, not both");
      }
      if (
        env.name === "BUILDKITE_AGENT_TOKEN" &&
        env.value !== undefined &&
        container.path !== "agent"
      ) {
        add(
          `${container.path}.env[${i}]`,
          "a literal agent token is not allowed; reference a Secret with valueFrom",
        );
      }
    });
    if (container.kind !== "agent" && !container.image) {
      add(`${container.path}.image`, "required: the container's image");
    }
    if (container.kind === "init" && container.restartPolicy !== "Always") {
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"] as const) {
        if (container[probe] !== undefined) {
          add(
            `${container.path}.${probe}`,
            "probes run only on services (sidecars), not on init containers that run to completion",
          );
        }
      }
    }
    const mountPaths = new Set<string>();
    container.volumeMounts?.forEach((mount, i) => {
      if (mountPaths.has(mount.mountPath)) {
        add(
          `${container.path}.volumeMounts[${i}].mountPath`,
          `"${mount.mountPath}" is mounted twice`,
        );
      }
      mountPaths.add(mount.mountPath);
      if (!volumes.has(mount.name)) {
        add(
          `${container.path}.volumeMounts[${i}].name`,
          `no volume named "${mount.name}" in pod.volumes`,
        );
      }
    });
  }
  issues.push(
    ...privilegeIssues({
      ...source,
      mode,
      access: accessOf(source),
      privilege: source.privilege ?? undefined,
    }),
  );
  // The Fargate profile selects pods by this label: only `compute: fargate` may set it.
  if (source.metadata?.labels && Object.hasOwn(source.metadata.labels, LABELS.compute)) {
    add(
      `metadata.labels.${LABELS.compute}`,
      "set from compute: remove it (compute: fargate sets it)",
    );
  }
  if (source.compute === "fargate") issues.push(...fargateIssues(source));
  return issues;
}

/**
 * Reads one pod definition as written (a file's parsed YAML, say) against
 * {@link PodDefinitionSourceSchema}: `{ success: true, data }`, or `{ success: false,
 * error }` with an {@link InvalidPodDefinitionError} naming every bad field by its path.
 * `extends` is not resolved here.
 *
 * @example
 * ```ts
 * const parsed = safeParsePodDefinitionSource(YAML.parse(text));
 * if (!parsed.success) console.error(parsed.error.message);
 * ```
 */
export function safeParsePodDefinitionSource(
  input: unknown,
): Result<PodDefinitionSource, InvalidPodDefinitionError> {
  const parsed = PodDefinitionSourceSchema.safeParse(input, { error: zodErrorMap });
  if (parsed.success) return { success: true, data: parsed.data };
  return {
    success: false,
    error: new InvalidPodDefinitionError(fromZodIssues(parsed.error.issues)),
  };
}

/**
 * Checks a source whose `extends` is resolved against every rule a complete definition
 * follows (required fields, and what Kubernetes or the scheduler would refuse later), and
 * fills in defaults: `{ success: true, data }` with the {@link PodDefinition}, or
 * `{ success: false, error }` with an {@link InvalidPodDefinitionError} holding every
 * issue.
 *
 * @example
 * ```ts
 * const checked = checkPodDefinition(mergedSource);
 * if (checked.success) definitions.push(checked.data);
 * ```
 */
export function checkPodDefinition(
  source: PodDefinitionSource,
): Result<PodDefinition, InvalidPodDefinitionError> {
  const issues = podDefinitionIssues(source);
  // podDefinitionIssues reports a missing image; testing it here only narrows its type.
  const image = source.agent?.image;
  if (issues.length > 0 || !image) {
    return { success: false, error: new InvalidPodDefinitionError(issues) };
  }
  return {
    success: true,
    data: {
      name: source.name,
      description: source.description,
      mode: source.mode ?? "one-shot",
      agent: { ...source.agent, image },
      pod: source.pod ?? {},
      metadata: source.metadata ?? {},
      services: source.services ?? [],
      longPolling: source.longPolling ? longPollingOf(source.longPolling) : undefined,
      access: accessOf(source),
      privilege: source.privilege ?? [],
      compute: source.compute ?? "any",
    },
  };
}
