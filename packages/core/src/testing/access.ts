/** A pod definition's access rules: valid patterns for each rule, some rules left out. */
import * as fc from "fast-check";
import type { AccessRule } from "../pod-definition/access.js";

/** A Buildkite organization or pipeline slug. */
export const slug = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,15}$/);
/** A queue name, as access rules and settings accept it. */
export const queueName = fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}$/);
/** Branches as people name them: segments separated by "/". */
export const branchName = fc
  .array(fc.stringMatching(/^[A-Za-z0-9._+-]{1,8}$/), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join("/"));

const patterns = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { maxLength: 3 });

/**
 * Access rules as a platform team writes them: queues by name; organizations,
 * `<organization>/<pipeline>` and branches by name or `*` / `**` pattern. Any rule may
 * be absent, and a present one may be empty (it then allows nobody).
 *
 * @example
 * ```ts
 * fc.property(podAccess(), scheduledJob(), (access, job) => {
 *   checkAccess(definePodDefinition({ name: "x", agent, access }), { job, queue: "default" });
 * });
 * ```
 */
export function podAccess(): fc.Arbitrary<Partial<Record<AccessRule, string[]>>> {
  return fc.record(
    {
      queues: patterns(queueName),
      organizations: patterns(
        fc.oneof(
          slug,
          fc.constant("*"),
          slug.map((s) => `${s}*`),
        ),
      ),
      pipelines: patterns(
        fc
          .tuple(fc.oneof(slug, fc.constant("*")), fc.oneof(slug, fc.constant("*")))
          .map(([organization, pipeline]) => `${organization}/${pipeline}`),
      ),
      branches: patterns(
        fc.oneof(
          branchName,
          branchName.map((b) => `${b}/*`),
          fc.constant("**"),
        ),
      ),
    },
    { requiredKeys: [] },
  );
}
