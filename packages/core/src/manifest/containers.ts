import type { PodDefinition, ServiceContainer } from "../pod-definition/schema.js";
import type { SchedulerSettings } from "../settings.js";
import { assignOwn, cloneJson } from "./clone.js";
import { requireEc2 } from "./ec2-affinity.js";
import type { Container, EnvVar, PodSpec } from "./kubernetes.js";

/**
 * The namespace a definition's pods go to: the privileged one when the definition uses
 * (and so acknowledges) privileged features, else the job namespace. Kept apart, so the
 * namespaces' Pod Security levels and the admission policy can tell them apart.
 *
 * @example
 * namespaceFor({ ...definition, privilege: ["privileged"] }, settings); // "buildkite-privileged"
 */
export function namespaceFor(definition: PodDefinition, settings: SchedulerSettings): string {
  return definition.privilege.length > 0 ? settings.privilegedNamespace : settings.namespace;
}

/** The agent's tags: queue and definition first, then the definition's own, sorted. */
export function agentTags(queue: string, definition: PodDefinition): string {
  const own = Object.entries(definition.agent.tags ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`);
  return [`queue=${queue}`, `pod=${definition.name}`, ...own].join(",");
}

/**
 * How the agent reaches Buildkite: its token, always by reference to a Secret (the
 * builder has no way to write a literal), and the agent API endpoint only when the
 * settings name one (otherwise the agent's own default, `https://agent.buildkite.com/v3`).
 */
export function agentConnectionEnv(settings: SchedulerSettings): EnvVar[] {
  const { name, key } = settings.agentTokenSecret;
  const env: EnvVar[] = [
    { name: "BUILDKITE_AGENT_TOKEN", valueFrom: { secretKeyRef: { name, key } } },
  ];
  if (settings.agentEndpoint !== undefined) {
    env.push({ name: "BUILDKITE_AGENT_ENDPOINT", value: settings.agentEndpoint });
  }
  return env;
}

/**
 * The agent container: the definition's container with the scheduler's environment in
 * front of the definition's own. Without a command of its own it runs the image's
 * entrypoint with `start` (the official buildkite/agent image).
 */
function agentContainer(definition: PodDefinition, schedulerEnv: readonly EnvVar[]): Container {
  const {
    tags: _tags,
    name: _name,
    image,
    command,
    args,
    env,
    ...rest
  } = cloneJson(definition.agent);
  const container: Container = { name: "agent", image };
  if (command) container.command = command;
  if (args) container.args = args;
  else if (!command) container.args = ["start"];
  container.env = [...schedulerEnv, ...((env ?? []) as EnvVar[])];
  return assignOwn(container, rest);
}

/** A service as a native sidecar: an init container that keeps running and ends with the pod. */
function sidecar(service: ServiceContainer): Container {
  const { name, image, restartPolicy: _policy, ...rest } = cloneJson(service);
  const container: Container = image ? { name, image } : { name };
  container.restartPolicy = "Always";
  return assignOwn(container, rest);
}

/** Init containers in order: the definition's own first, then the services. */
function initContainers(definition: PodDefinition): Container[] {
  const own = (definition.pod.initContainers ?? []).map(({ name, ...rest }) =>
    assignOwn({ name } as Container, cloneJson(rest)),
  );
  return [...own, ...definition.services.map(sidecar)];
}

/**
 * Restrictive defaults for every pod, each kept only where the definition's pod does not
 * set that field itself: no Kubernetes API token mounted (IRSA and EKS Pod Identity
 * project their own), no Service environment variables, and the container runtime's
 * default seccomp profile (privileged containers run unconfined whatever it says).
 */
function restrictiveDefaults(spec: PodSpec): void {
  if (!Object.hasOwn(spec, "automountServiceAccountToken"))
    spec.automountServiceAccountToken = false;
  if (!Object.hasOwn(spec, "enableServiceLinks")) spec.enableServiceLinks = false;
  const context = Object.hasOwn(spec, "securityContext") ? spec.securityContext : {};
  if (
    typeof context === "object" &&
    context !== null &&
    !Array.isArray(context) &&
    !Object.hasOwn(context, "seccompProfile")
  ) {
    spec.securityContext = { ...context, seccompProfile: { type: "RuntimeDefault" } };
  }
}

/**
 * The pod spec both builders share: the definition's PodSpec fields, the restrictive
 * defaults it does not override, then the scheduler's restart policy, the definition's
 * volumes, init containers and services as sidecars, and the one agent container with
 * `schedulerEnv` in front of the definition's env. A `compute: ec2` definition's pod also
 * requires nodes that are not Fargate's.
 */
export function podSpec(
  definition: PodDefinition,
  restartPolicy: PodSpec["restartPolicy"],
  schedulerEnv: readonly EnvVar[],
): PodSpec {
  const { initContainers: _init, volumes, ...rest } = cloneJson(definition.pod);
  const spec = assignOwn({} as PodSpec, rest);
  restrictiveDefaults(spec);
  if (definition.compute === "ec2") requireEc2(spec);
  spec.restartPolicy = restartPolicy;
  if (volumes) spec.volumes = volumes;
  const init = initContainers(definition);
  if (init.length > 0) spec.initContainers = init;
  spec.containers = [agentContainer(definition, schedulerEnv)];
  return spec;
}
