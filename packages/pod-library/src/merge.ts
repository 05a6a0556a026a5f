import type { PodDefinitionSource } from "@ondemand-eks/core";

type Json = unknown;

function isPlainObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNamedList(value: Json): value is Record<string, Json>[] {
  return (
    Array.isArray(value) &&
    value.every((item) => isPlainObject(item) && typeof item.name === "string")
  );
}

function define(target: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * Deep merge with pod-definition semantics: objects merge key by key; lists of named
 * items (containers, env, volumes, volumeMounts, ports) merge by `name`, a child's item
 * merged into its parent's in place and new ones appended; any other value in the child
 * replaces the parent's.
 */
export function mergeValues(parent: Json, child: Json): Json {
  if (child === undefined) return parent;
  if (isPlainObject(parent) && isPlainObject(child)) {
    const out: Record<string, Json> = {};
    for (const [key, value] of Object.entries(parent)) define(out, key, value);
    for (const [key, value] of Object.entries(child))
      define(out, key, mergeValues(parent[key], value));
    return out;
  }
  if (isNamedList(parent) && isNamedList(child)) {
    const merged = parent.map((item) => {
      const override = child.find((c) => c.name === item.name);
      return override ? mergeValues(item, override) : item;
    });
    const added = child.filter((c) => !parent.some((p) => p.name === c.name));
    return [...merged, ...added];
  }
  return child;
}

/**
 * A child definition over the one it extends. `name`, `description` and `extends` are the
 * child's own; a child that changes `mode` does not inherit `longPolling`.
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
