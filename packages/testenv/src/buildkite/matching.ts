/**
 * Agent query rules against agent tags, as Buildkite dispatches: every `key=value` rule
 * of a job must match a tag of the agent with that key; `*` in a rule's value matches
 * any run of characters; a job without a `queue=` rule, and an agent without a `queue`
 * tag, are in the `default` queue.
 */

/** Splits `key=value` at the first `=`; a string without one has an empty value. */
function split(pair: string): [string, string] {
  const at = pair.indexOf("=");
  return at < 0 ? [pair, ""] : [pair.slice(0, at), pair.slice(at + 1)];
}

/**
 * The queue of a job's rules or an agent's tags: the `queue=` value, else `default`.
 *
 * @example
 * queueOf(["queue=linux", "os=linux"]); // "linux"
 * queueOf(["os=linux"]); // "default"
 */
export function queueOf(pairs: readonly string[]): string {
  const queue = pairs.map(split).find(([key]) => key === "queue");
  return queue?.[1] ?? "default";
}

/** True when `value` matches `pattern`, where each `*` stands for any characters. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const parts = pattern.split("*").map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`, "s").test(value);
}

/**
 * True when an agent with `tags` may run a job with `rules`.
 *
 * @example
 * matches(["queue=linux", "os=lin*"], ["queue=linux", "os=linux"]); // true
 * matches(["os=linux"], ["queue=linux", "os=linux"]); // false: the job is in `default`
 */
export function matches(rules: readonly string[], tags: readonly string[]): boolean {
  const tagged = new Map<string, string[]>();
  for (const [key, value] of tags.map(split)) {
    tagged.set(key, [...(tagged.get(key) ?? []), value]);
  }
  if (!tagged.has("queue")) tagged.set("queue", ["default"]);
  const withQueue = rules.some((rule) => split(rule)[0] === "queue")
    ? rules
    : [...rules, "queue=default"];
  return withQueue.every((rule) => {
    const [key, pattern] = split(rule);
    return (tagged.get(key) ?? []).some((value) => wildcardMatch(pattern, value));
  });
}
