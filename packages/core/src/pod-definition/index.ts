/**
 * `@ondemand-eks/core/pod-definition`: the pod definition format (its zod schema and
 * types) and the checks that turn what someone wrote into a {@link PodDefinition} the
 * manifest builders take.
 *
 * @module
 */
export {
  checkPodDefinition,
  definePodDefinition,
  safeParsePodDefinitionSource,
} from "./check.js";
export {
  type PodDefinition,
  type PodDefinitionSource,
  PodDefinitionSourceSchema,
  type ServiceContainer,
} from "./schema.js";
