import { InvalidPodDefinitionError, type Issue } from "../errors.js";
import { fromZodIssues, zodErrorMap } from "../zod-issues.js";
import {
  type PodDefinition,
  type PodDefinitionSource,
  PodDefinitionSourceSchema,
} from "./schema.js";

/** Agent environment the scheduler owns; a definition setting them would be overridden or leak a token. */
export const RESERVED_AGENT_ENV = [
  "BUILDKITE_AGENT_TOKEN",
  "BUILDKITE_AGENT_ACQUIRE_JOB",
  "BUILDKITE_AGENT_TAGS",
] as const;
/** Agent tags the scheduler sets from the job (and the definition's name). */
export const RESERVED_TAGS = ["queue", "pod", "pod-template"] as const;

/** The name of the one agent container in every pod. */
export const AGENT_CONTAINER = "agent";

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

/**
 * Everything wrong with a definition whose `extends` is already resolved: missing
 * required fields, and the rules Kubernetes (or the scheduler) would enforce later.
 */
export function podDefinitionIssues(source: PodDefinitionSource): Issue[] {
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
  return issues;
}

/**
 * Turns a complete source (no `extends` left) into a {@link PodDefinition}, filling in
 * defaults; `undefined` when {@link podDefinitionIssues} finds problems.
 */
export function completePodDefinition(source: PodDefinitionSource): PodDefinition | undefined {
  if (podDefinitionIssues(source).length > 0 || !source.agent?.image) return undefined;
  const mode = source.mode ?? "one-shot";
  return {
    name: source.name,
    description: source.description,
    mode,
    agent: { ...source.agent, image: source.agent.image },
    pod: source.pod ?? {},
    metadata: source.metadata ?? {},
    services: source.services ?? [],
    longPolling: source.longPolling
      ? { queue: source.longPolling.queue, replicas: source.longPolling.replicas ?? 1 }
      : undefined,
  };
}

/**
 * Validates one stand-alone pod definition (for callers that build definitions in code
 * rather than load a library). Throws {@link InvalidPodDefinitionError} with every issue.
 *
 * @example
 * ```ts
 * const definition = definePodDefinition({ name: "small", agent: { image: "buildkite/agent:3" } });
 * ```
 */
export function definePodDefinition(input: unknown): PodDefinition {
  const parsed = PodDefinitionSourceSchema.safeParse(input, { error: zodErrorMap });
  if (!parsed.success) throw new InvalidPodDefinitionError(fromZodIssues(parsed.error.issues));
  if (parsed.data.extends !== undefined) {
    throw new InvalidPodDefinitionError([
      {
        path: "extends",
        message: "resolve extends with @ondemand-eks/pod-library before defining",
      },
    ]);
  }
  const issues = podDefinitionIssues(parsed.data);
  const definition = completePodDefinition(parsed.data);
  if (!definition) throw new InvalidPodDefinitionError(issues);
  return definition;
}
