import { InvalidEventError } from "../errors.js";
import { isPodDefinitionName, POD_DEFINITION_NAME_MAX } from "../names.js";

/** One `key=value` agent query rule. */
export interface AgentQueryRule {
  readonly key: string;
  readonly value: string;
}

/** The rule keys that name a pod definition, in order of preference. */
const POD_DEFINITION_RULE_KEYS = ["pod", "pod-template"] as const;

const RULES_PATH = "job.agent_query_rules";

/**
 * Splits one rule at its first `=`: `image=a=b` is key `image`, value `a=b`.
 * Returns `undefined` for a string with no `=` or an empty key.
 *
 * @example
 * ```ts
 * parseAgentQueryRule("queue=build*"); // { key: "queue", value: "build*" }
 * ```
 */
export function parseAgentQueryRule(rule: string): AgentQueryRule | undefined {
  const at = rule.indexOf("=");
  if (at <= 0) return undefined;
  return { key: rule.slice(0, at), value: rule.slice(at + 1) };
}

/**
 * Parses every rule; a malformed one throws {@link InvalidEventError} naming its index.
 *
 * @example
 * ```ts
 * parseAgentQueryRules(["queue=default", "pod=node-postgres"]);
 * ```
 */
export function parseAgentQueryRules(rules: readonly string[]): AgentQueryRule[] {
  return rules.map((rule, index) => {
    const parsed = parseAgentQueryRule(rule);
    if (!parsed) {
      throw new InvalidEventError([
        {
          path: `${RULES_PATH}[${index}]`,
          message: `expected "key=value", got ${JSON.stringify(rule)}`,
        },
      ]);
    }
    return parsed;
  });
}

/** The single value of `keys` among `rules`; two different values are an error. */
function single(rules: readonly AgentQueryRule[], keys: readonly string[]): string | undefined {
  let found: { value: string; key: string; index: number } | undefined;
  rules.forEach((rule, index) => {
    if (!keys.includes(rule.key)) return;
    if (found && found.value !== rule.value) {
      throw new InvalidEventError([
        {
          path: `${RULES_PATH}[${index}]`,
          message: `${rule.key}=${JSON.stringify(rule.value)} conflicts with ${found.key}=${JSON.stringify(found.value)} at [${found.index}]`,
        },
      ]);
    }
    found ??= { value: rule.value, key: rule.key, index };
  });
  return found?.value;
}

/**
 * The queue a job targets: its `queue=` rule, or `default` when it has none.
 *
 * @example
 * ```ts
 * queueOf(parseAgentQueryRules(["os=linux"])); // "default"
 * ```
 */
export function queueOf(rules: readonly AgentQueryRule[]): string {
  return single(rules, ["queue"]) ?? "default";
}

/**
 * The pod definition a job asks for with `pod=<name>` (or `pod-template=<name>`, the
 * original on-demand stack's key), or `undefined` when it names none. A value that is
 * not a valid definition name (`../x`, spaces, upper case) throws {@link InvalidEventError}.
 */
export function podDefinitionOf(rules: readonly AgentQueryRule[]): string | undefined {
  const name = single(rules, POD_DEFINITION_RULE_KEYS);
  if (name === undefined || isPodDefinitionName(name)) return name;
  const index = rules.findIndex(
    (rule) => rule.value === name && POD_DEFINITION_RULE_KEYS.some((k) => k === rule.key),
  );
  throw new InvalidEventError([
    {
      path: `${RULES_PATH}[${index}]`,
      message: `expected a pod definition name (lower-case letters, digits and "-", at most ${POD_DEFINITION_NAME_MAX} characters), got ${JSON.stringify(name)}`,
    },
  ]);
}
