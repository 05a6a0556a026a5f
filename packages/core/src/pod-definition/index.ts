export {
  AGENT_CONTAINER,
  completePodDefinition,
  definePodDefinition,
  podDefinitionIssues,
  RESERVED_AGENT_ENV,
  RESERVED_TAGS,
} from "./check.js";
export * from "./schema.js";
