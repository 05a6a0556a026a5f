import type { PodSpec } from "./kubernetes.js";

/** The node selector requirement that keeps a pod off Fargate: EKS labels its nodes so. */
export const NOT_ON_FARGATE = {
  key: "eks.amazonaws.com/compute-type",
  operator: "NotIn",
  values: ["fargate"],
} as const;

type Json = Record<string, unknown>;

function object(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

/** Is `requirement` already {@link NOT_ON_FARGATE} (or a NotIn that names fargate among others)? */
function keepsOffFargate(requirement: unknown): boolean {
  const fields = object(requirement);
  return (
    fields?.key === NOT_ON_FARGATE.key &&
    fields.operator === "NotIn" &&
    Array.isArray(fields.values) &&
    fields.values.includes("fargate")
  );
}

/**
 * Requires {@link NOT_ON_FARGATE} of every node the pod may run on, keeping the
 * definition's own node affinity. Its terms are alternatives (any one may hold), so the
 * requirement goes into each term that lacks it; with no term, it becomes the one. `spec`
 * is the builder's own copy and is changed in place.
 *
 * @example
 * ```ts
 * requireEc2(spec);
 * spec.affinity; // { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [NOT_ON_FARGATE] }] } } }
 * ```
 */
export function requireEc2(spec: PodSpec): void {
  const affinity = object(spec.affinity) ?? {};
  const nodeAffinity = object(affinity.nodeAffinity) ?? {};
  const required = object(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution) ?? {};
  const terms = Array.isArray(required.nodeSelectorTerms)
    ? (required.nodeSelectorTerms as unknown[])
    : [];
  const withEc2 = (terms.length > 0 ? terms : [{}]).map((term) => {
    const fields = object(term) ?? {};
    // A term of the definition's with no requirement matches no node (Kubernetes' rule for
    // an empty term): it stays so, rather than becoming "any EC2 node".
    const empty = (list: unknown) => !Array.isArray(list) || list.length === 0;
    if (terms.length > 0 && empty(fields.matchExpressions) && empty(fields.matchFields)) {
      return fields;
    }
    const expressions = Array.isArray(fields.matchExpressions) ? fields.matchExpressions : [];
    if (expressions.some(keepsOffFargate)) return fields;
    return {
      ...fields,
      matchExpressions: [...expressions, { ...NOT_ON_FARGATE, values: ["fargate"] }],
    };
  });
  spec.affinity = {
    ...affinity,
    nodeAffinity: {
      ...nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: { ...required, nodeSelectorTerms: withEc2 },
    },
  };
}
