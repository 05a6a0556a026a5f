/**
 * `@ondemand-eks/core/testing`: fast-check arbitraries for property-testing manifest
 * generation in your own repository: Buildkite events in every form with hostile text
 * in every field a user writes, the jobs they parse to, agent query rules, valid pod
 * definitions (one-shot and long-polling, with services, with privilege acknowledged),
 * scaled pools with their queue counts, and scheduler settings.
 *
 * fast-check is an optional peer dependency: install it (`npm install -D fast-check`)
 * to use this entry. Nothing else in `@ondemand-eks/core` imports it.
 *
 * @module
 */
export { arbitraries } from "./arbitraries.js";
export type { GeneratedEvent, ScheduledEventOptions } from "./events.js";
export type { PodDefinitionOptions } from "./pod-definitions.js";
export type { QueueDepthOptions } from "./pools.js";
export type {
  AgentQueryRuleOptions,
  AgentQueryRulesOptions,
  GeneratedRules,
} from "./rules.js";
export type { SettingsOptions } from "./settings.js";
export { COMMAND_MARK, type HostileTextOptions, UNTRUSTED_MARK } from "./text.js";
