/**
 * One stand-alone pod definition, from TypeScript (typed) or from untrusted data
 * (`unknown`): both validated by the same schema and checks.
 */
import { InvalidPodDefinitionError } from "../errors.js";
import type { Result } from "../result.js";
import { checkPodDefinition, safeParsePodDefinitionSource } from "./check.js";
import type { PodDefinition, PodDefinitionInput } from "./schema.js";

/**
 * Validates one stand-alone definition from untrusted data (parsed YAML or JSON, a
 * request body): `{ success: true, data }` with the {@link PodDefinition}, defaults
 * filled in, or `{ success: false, error }` with an {@link InvalidPodDefinitionError}
 * naming every issue by its path. A definition that `extends` another is refused:
 * `@ondemand-eks/pod-library` resolves those.
 *
 * @example
 * ```ts
 * const result = safeParsePodDefinition(JSON.parse(text));
 * if (!result.success) console.error(result.error.message);
 * ```
 */
export function safeParsePodDefinition(
  input: unknown,
): Result<PodDefinition, InvalidPodDefinitionError> {
  const parsed = safeParsePodDefinitionSource(input);
  if (!parsed.success) return parsed;
  if (parsed.data.extends !== undefined) {
    return {
      success: false,
      error: new InvalidPodDefinitionError([
        {
          path: "extends",
          message: "resolve extends with @ondemand-eks/pod-library before defining",
        },
      ]),
    };
  }
  return checkPodDefinition(parsed.data);
}

/**
 * {@link safeParsePodDefinition} that throws: the {@link PodDefinition}, or an
 * {@link InvalidPodDefinitionError} with every issue.
 *
 * @example
 * ```ts
 * const definition = parsePodDefinition(YAML.parse(text));
 * ```
 */
export function parsePodDefinition(input: unknown): PodDefinition {
  const result = safeParsePodDefinition(input);
  if (!result.success) throw result.error;
  return result.data;
}

/**
 * Defines one pod definition in TypeScript. The input is typed
 * ({@link PodDefinitionInput}), so a misspelt or misplaced field fails `tsc`; what types
 * cannot say (name patterns, reserved variables, privilege acknowledged) is still checked
 * when it runs, and throws {@link InvalidPodDefinitionError}. For untrusted data, use
 * {@link parsePodDefinition}.
 *
 * @example
 * ```ts
 * const definition = definePodDefinition({
 *   name: "node-postgres",
 *   agent: { image: "buildkite/agent:3" },
 *   services: [{ name: "postgres", image: "postgres:17" }],
 * });
 * ```
 */
export function definePodDefinition(input: PodDefinitionInput): PodDefinition {
  return parsePodDefinition(input);
}
