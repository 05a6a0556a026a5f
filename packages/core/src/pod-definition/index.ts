/**
 * `@ondemand-eks/core/pod-definition`: the pod definition format (its zod schema and
 * types) and the checks that turn what someone wrote into a {@link PodDefinition} the
 * manifest builders take: among them, that a definition acknowledges the privilege its
 * pod uses (`privilegeUses`), and who may use it (`checkAccess`); and, for definitions
 * that run on AWS Fargate, the size Fargate gives their pods (`fargateSize`).
 *
 * @module
 */
export {
  type AccessDecision,
  type AccessRequest,
  type AccessRule,
  checkAccess,
} from "./access.js";
export { checkPodDefinition, safeParsePodDefinitionSource } from "./check.js";
export { definePodDefinition, parsePodDefinition, safeParsePodDefinition } from "./define.js";
export { FARGATE_MAX, FARGATE_SIZES, fargateSize, type PodSize } from "./fargate-size.js";
export {
  PRIVILEGE_FEATURES,
  type PrivilegeFeature,
  type PrivilegeSubject,
  type PrivilegeUse,
  privilegeUses,
} from "./privilege.js";
export {
  type LongPolling,
  POD_COMPUTES,
  type PodAccess,
  type PodCompute,
  type PodDefinition,
  type PodDefinitionInput,
  type PodDefinitionSource,
  PodDefinitionSourceSchema,
  type PoolScaling,
  type ServiceContainer,
} from "./schema.js";
