import { InvalidPodDefinitionError } from "../errors.js";
import { deploymentName } from "../names.js";
import type { PodDefinition } from "../pod-definition/schema.js";
import type { SchedulerSettings } from "../settings.js";
import { agentConnectionEnv, agentTags, namespaceFor, podSpec } from "./containers.js";
import type { DeploymentManifest } from "./kubernetes.js";
import { toLabelValue } from "./labels.js";
import { LABELS, MANAGED_BY, mergeSorted } from "./metadata.js";

export interface BuildDeploymentOptions {
  readonly definition: PodDefinition;
  readonly settings: SchedulerSettings;
}

/**
 * Builds the `apps/v1` Deployment for a long-polling definition: agents that poll the
 * definition's queue and take whatever jobs it holds (no `--acquire-job`).
 *
 * @example
 * ```ts
 * const deployment = buildDeployment({ definition: library.get("linux-pool"), settings });
 * ```
 */
export function buildDeployment({
  definition,
  settings,
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
  const spec = podSpec(definition, "Always", [
    ...agentConnectionEnv(settings),
    { name: "BUILDKITE_AGENT_TAGS", value: agentTags(polling.queue, definition) },
  ]);

  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: deploymentName(definition.name),
      namespace: namespaceFor(definition, settings),
      labels,
      annotations: { "buildkite.com/queue": polling.queue },
    },
    spec: {
      replicas: polling.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: mergeSorted(definition.metadata.labels, labels),
          annotations: mergeSorted(definition.metadata.annotations, {}),
        },
        spec,
      },
    },
  };
}
