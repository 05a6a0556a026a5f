import type { PodDefinitionSource } from "@ondemand-eks/core/pod-definition";

type Json = unknown;

const PROBE_HANDLERS = ["exec", "httpGet", "tcpSocket", "grpc"];
const LIFECYCLE_HANDLERS = ["exec", "httpGet", "tcpSocket", "sleep"];

/**
 * Where Kubernetes allows only one key of a set, by the key the object sits under. When
 * a child sets one, the parent's others are dropped: an env item's `value` or
 * `valueFrom`; a probe's or lifecycle hook's handler. Elsewhere (tags, selectors) these
 * are ordinary keys.
 */
const EXCLUSIVE_BY_KEY: Readonly<Record<string, readonly string[]>> = {
  env: ["value", "valueFrom"],
  startupProbe: PROBE_HANDLERS,
  readinessProbe: PROBE_HANDLERS,
  livenessProbe: PROBE_HANDLERS,
  postStart: LIFECYCLE_HANDLERS,
  preStop: LIFECYCLE_HANDLERS,
};

/** Values a child replaces whole: `valueFrom` holds exactly one source. */
const REPLACED_WHOLE = new Set(["valueFrom"]);

/** Lists whose named items a child replaces whole: a volume is a name and one source. */
const REPLACED_BY_NAME = new Set(["volumes"]);

/**
 * Sets `key` on `target` as a plain data property: a `"__proto__"` key (which YAML can
 * carry) stays an ordinary key and never changes a prototype.
 */
function setOwn(target: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Deep copy of parsed YAML, so a merged definition shares no object with its sources. */
function copy(value: Json): Json {
  if (Array.isArray(value)) return value.map(copy);
  if (!isPlainObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [key, item] of Object.entries(value)) setOwn(out, key, copy(item));
  return out;
}

function isPlainObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNamedList(value: Json): value is Record<string, Json>[] {
  return (
    Array.isArray(value) &&
    value.every((item) => isPlainObject(item) && typeof item.name === "string")
  );
}

function mergeObjects(
  parent: Record<string, Json>,
  child: Record<string, Json>,
  under: string | undefined,
): Json {
  const dropped = new Set<string>();
  // Own keys only: a definition may well contain a key named "toString" or "constructor".
  const group =
    under !== undefined && Object.hasOwn(EXCLUSIVE_BY_KEY, under)
      ? EXCLUSIVE_BY_KEY[under]
      : undefined;
  if (group?.some((key) => Object.hasOwn(child, key))) {
    for (const key of group) if (!Object.hasOwn(child, key)) dropped.add(key);
  }
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (!dropped.has(key)) setOwn(out, key, copy(value));
  }
  for (const [key, value] of Object.entries(child)) {
    // null in a child clears what the parent set.
    if (value === null) delete out[key];
    else {
      const inherited = Object.hasOwn(parent, key) ? parent[key] : undefined;
      setOwn(out, key, mergeValues(inherited, value, key));
    }
  }
  return out;
}

/**
 * Deep merge with pod-definition semantics, returning new objects (the result shares
 * nothing with its inputs):
 * - objects merge key by key, except that in env items, probes and lifecycle hooks a
 *   child setting one of a set of exclusive keys (`value`/`valueFrom`, the handlers)
 *   drops the parent's others, and `valueFrom` is replaced whole;
 * - a key set to `null` in the child is removed;
 * - lists of named items (containers, env, volumeMounts, ports) merge by `name`, a
 *   child's item merged into its parent's in place and new ones appended; `volumes`
 *   items with the same name are replaced whole;
 * - any other value in the child replaces the parent's.
 *
 * @example
 * ```ts
 * mergeValues({ env: [{ name: "A", value: "1" }] }, { env: [{ name: "A", valueFrom: {} }] });
 * // { env: [{ name: "A", valueFrom: {} }] }
 * ```
 */
export function mergeValues(parent: Json, child: Json, key?: string): Json {
  if (child === undefined) return copy(parent);
  if (key !== undefined && REPLACED_WHOLE.has(key)) return copy(child);
  if (isPlainObject(parent) && isPlainObject(child)) return mergeObjects(parent, child, key);
  if (isNamedList(parent) && isNamedList(child)) {
    const whole = key !== undefined && REPLACED_BY_NAME.has(key);
    const merged = parent.map((item) => {
      const override = child.find((c) => c.name === item.name);
      if (!override) return copy(item);
      // Items merge with the list's key as context: an env item knows it is one.
      return whole ? copy(override) : mergeValues(item, override, key);
    });
    const added = child.filter((c) => !parent.some((p) => p.name === c.name)).map(copy);
    return [...merged, ...added];
  }
  return copy(child);
}

/**
 * A child definition over the one it extends. `name`, `description` and `extends` are the
 * child's own; a child that changes `mode` does not inherit `longPolling`.
 *
 * `access` merges rule by rule like any mapping: a child that says nothing keeps every
 * rule its parent has, a rule it gives replaces the parent's (patterns are not added
 * together), and `null` clears a rule or the whole section. A rule the child does not
 * mention stays, so a child cannot loosen access by accident. `privilege` is a plain list:
 * the child's replaces the parent's, and must still name exactly what the merged pod uses.
 */
export function mergeDefinitions(
  parent: PodDefinitionSource,
  child: PodDefinitionSource,
): PodDefinitionSource {
  const { name: _name, description: _description, extends: _extends, ...inherited } = parent;
  if (child.mode !== undefined && child.mode !== (parent.mode ?? "one-shot"))
    delete inherited.longPolling;
  const merged = mergeValues(inherited, { ...child, extends: undefined }) as PodDefinitionSource;
  delete merged.extends;
  return merged;
}
