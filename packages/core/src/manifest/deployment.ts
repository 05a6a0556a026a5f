import { InvalidPodDefinitionError } from "../errors.js";
import { deploymentName } from "../names.js";
import type { PodDefinition } from "../pod-definition/schema.js";
import type { SchedulerSettings } from "../settings.js";
import { agentConnectionEnv, agentTags, namespaceFor, podSpec } from "./containers.js";
import { definitionHash } from "./definition-hash.js";
import type { DeploymentManifest, EnvVar } from "./kubernetes.js";
import { toLabelValue } from "./labels.js";
import { ANNOTATIONS, computeLabels, LABELS, MANAGED_BY, mergeSorted } from "./metadata.js";

export interface BuildDeploymentOptions {
  readonly definition: PodDefinition;
  readonly settings: SchedulerSettings;
  /**
   * A scaled pool's `spec.replicas`, as the scaler decided. Left out, the field is left
   * out too, so a server-side apply does not take the count from whoever scales the
   * pool (the controller, or KEDA). A fixed pool always gets its definition's
   * `replicas`, and ignores this.
   */
  readonly replicas?: number | undefined;
}

/** The agent's name is its pod's: `kubectl get pod` and Buildkite's agent list agree. */
const AGENT_NAME_ENV: EnvVar = {
  name: "BUILDKITE_AGENT_NAME",
  valueFrom: { fieldRef: { fieldPath: "metadata.name" } },
};

/**
 * Builds the `apps/v1` Deployment for a long-polling definition: agents that poll the
 * definition's queue and take whatever jobs it holds (no `--acquire-job`), each named
 * after its pod, with `stopGraceSeconds` to finish a job after SIGTERM. The Deployment
 * carries the definition's hash (`ondemand-eks.io/pod-definition-hash`), so a changed
 * definition shows on the object.
 *
 * @example
 * ```ts
 * const deployment = buildDeployment({ definition: library.get("linux-pool"), settings });
 * const scaled = buildDeployment({ definition: library.get("linux-scaled"), settings, replicas: 4 });
 * ```
 */
export function buildDeployment({
  definition,
  settings,
  replicas,
}: BuildDeploymentOptions): DeploymentManifest {
  const polling = definition.longPolling;
  if (definition.mode !== "long-polling" || !polling) {
    throw new InvalidPodDefinitionError([
      {
        path: "mode",
        message: `definition "${definition.name}" is not long-polling: build a Job for it`,
      },
    ]);
  }
  const selector = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.component]: "long-polling-agent",
    [LABELS.podDefinition]: definition.name,
  };
  const labels = mergeSorted(selector, {
    [LABELS.name]: "buildkite-agent",
    [LABELS.queue]: toLabelValue(polling.queue),
  });
  const agentsPerPod = polling.scaling?.agentsPerPod ?? 1;
  const spec = podSpec(definition, "Always", [
    ...agentConnectionEnv(settings),
    { name: "BUILDKITE_AGENT_TAGS", value: agentTags(polling.queue, definition) },
    AGENT_NAME_ENV,
    ...(agentsPerPod > 1 ? [{ name: "BUILDKITE_AGENT_SPAWN", value: String(agentsPerPod) }] : []),
  ]);
  spec.terminationGracePeriodSeconds = polling.stopGraceSeconds;
  const size = polling.scaling ? replicas : polling.replicas;

  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: deploymentName(definition.name),
      namespace: namespaceFor(definition, settings),
      labels,
      annotations: {
        [ANNOTATIONS.queue]: polling.queue,
        [ANNOTATIONS.podDefinitionHash]: definitionHash(definition),
      },
    },
    spec: {
      ...(size === undefined ? {} : { replicas: size }),
      selector: { matchLabels: selector },
      template: {
        metadata: {
          // Not in the selector, which cannot change: the template only.
          labels: mergeSorted(definition.metadata.labels, {
            ...labels,
            ...computeLabels(definition),
          }),
          annotations: mergeSorted(definition.metadata.annotations, {}),
        },
        spec,
      },
    },
  };
}
