/**
 * Kubernetes naming rules the core relies on, and the names it gives objects.
 */

/** RFC 1123 label: what Kubernetes requires of namespaces, container and Job names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: what Kubernetes requires of Secret names. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Pod definition names: an RFC 1123 label of at most 40 characters, so that
 * `buildkite-agents-<name>` (a long-polling Deployment) still fits a 63-character label.
 */
export const POD_DEFINITION_NAME = DNS_LABEL;
export const POD_DEFINITION_NAME_MAX = 40;

/** Is `value` a valid pod definition name? Rejects anything path-like (`../x`, `/etc`). */
export function isPodDefinitionName(value: string): boolean {
  return value.length <= POD_DEFINITION_NAME_MAX && POD_DEFINITION_NAME.test(value);
}

/**
 * The Kubernetes Job name for a Buildkite job: `buildkite-<uuid>`, 46 characters.
 * One name per job is what makes a second submission of the same event a no-op.
 *
 * @example
 * ```ts
 * jobName("0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70"); // "buildkite-0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70"
 * ```
 */
export function jobName(uuid: string): string {
  return `buildkite-${uuid.toLowerCase()}`;
}

/** The Deployment name for a long-polling pod definition. */
export function deploymentName(definition: string): string {
  return `buildkite-agents-${definition}`;
}
