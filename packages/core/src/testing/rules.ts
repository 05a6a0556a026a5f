/**
 * Agent query rules as a job carries them: the routing rules (`queue=`, `pod=`) a
 * scheduler acts on, among rules of any other key with hostile values.
 */
import * as fc from "fast-check";
import { hostileText } from "./text.js";

/** The keys a scheduler routes on; {@link agentQueryRule} never makes them. */
const ROUTING_KEYS = new Set(["queue", "pod", "pod-template"]);

/** Options of {@link agentQueryRule}. */
export interface AgentQueryRuleOptions {
  /** The marker every value carries ({@link UNTRUSTED_MARK} by default), or `false`. */
  readonly mark?: string | false;
}

/**
 * One `key=value` rule that routes nothing: a key of any characters but `=` (never
 * `queue`, `pod` or `pod-template`), and a hostile value that may hold `=` and `*`.
 *
 * @example
 * ```ts
 * fc.property(agentQueryRule(), (rule) => parseAgentQueryRule(rule) !== undefined);
 * ```
 */
export function agentQueryRule(options: AgentQueryRuleOptions = {}): fc.Arbitrary<string> {
  const key = fc.oneof(
    fc.constantFrom("os", "arch", "docker", "queue ", "Queue", "pod-templates", "*", "a b"),
    fc.string({ minLength: 1, maxLength: 20, unit: "binary" }),
  );
  const value = hostileText({ maxLength: 60, mark: options.mark });
  return fc
    .tuple(
      key.filter((k) => !k.includes("=") && !ROUTING_KEYS.has(k)),
      value,
    )
    .map(([k, v]) => `${k}=${v}`);
}

/** Options of {@link agentQueryRules}. */
export interface AgentQueryRulesOptions extends AgentQueryRuleOptions {
  /**
   * The queues a job may target; `["default"]` by default. When `default` is among them,
   * some jobs carry no `queue=` rule at all (and target `default`).
   */
  readonly queues?: readonly string[];
  /**
   * The pod definitions a job may name with `pod=` (or `pod-template=`); some jobs
   * name none. Without it, no job names one.
   */
  readonly podDefinitions?: readonly string[];
  /** Most rules besides the routing ones; 4 by default. */
  readonly maxExtraRules?: number;
}

/** A job's rules, and the queue and pod definition they route to. */
export interface GeneratedRules {
  readonly rules: readonly string[];
  readonly queue: string;
  /** The `pod=` (or `pod-template=`) value, or `undefined` when the job names none. */
  readonly podDefinition: string | undefined;
}

/**
 * A job's whole rule list, in any order: a queue from `queues`, perhaps a pod
 * definition from `podDefinitions`, and hostile rules of other keys.
 *
 * @example
 * ```ts
 * fc.property(agentQueryRules({ queues: ["default", "build"] }), ({ rules, queue }) => {
 *   expect(queueOf(parseAgentQueryRules(rules))).toBe(queue);
 * });
 * ```
 */
export function agentQueryRules(
  options: AgentQueryRulesOptions = {},
): fc.Arbitrary<GeneratedRules> {
  const queues = options.queues ?? ["default"];
  if (queues.length === 0) throw new Error("agentQueryRules: give at least one queue");
  const names = options.podDefinitions ?? [];
  return fc
    .record({
      queue: fc.constantFrom(...queues),
      queueRule: fc.boolean(),
      podDefinition:
        names.length === 0
          ? fc.constant(undefined)
          : fc.option(fc.constantFrom(...names), { nil: undefined }),
      podKey: fc.constantFrom("pod", "pod-template"),
      extra: fc.array(agentQueryRule(options), { maxLength: options.maxExtraRules ?? 4 }),
      order: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
    })
    .map(({ queue, queueRule, podDefinition, podKey, extra, order }) => {
      const routing = [
        ...(queueRule || queue !== "default" ? [`queue=${queue}`] : []),
        ...(podDefinition === undefined ? [] : [`${podKey}=${podDefinition}`]),
      ];
      const rules = [...extra];
      routing.forEach((rule, i) => {
        rules.splice((order[i] ?? 0) % (rules.length + 1), 0, rule);
      });
      return { rules, queue, podDefinition };
    });
}
