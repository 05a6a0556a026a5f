import type { PodDefinition } from "@ondemand-eks/core";
import { type PodAccess, privilegeUses } from "@ondemand-eks/core/pod-definition";

/** One pod definition as `validate --output json` reports it. */
export interface DefinitionReport {
  readonly name: string;
  /** `job` (one Job per Buildkite job) or `long-polling` (a Deployment of agents). */
  readonly kind: "job" | "long-polling";
  /** Each privileged feature its pod uses, with where in the definition. */
  readonly privilege: readonly { readonly feature: string; readonly path: string }[];
  /** Its access rules (queues, organizations, pipelines, branches), or null when it has none. */
  readonly access: PodAccess | null;
}

/** What the API server said of one definition's dry run (`--server`). */
export interface ServerCheck {
  readonly definition: string;
  readonly kind: string;
  readonly outcome: "accepted" | "rejected" | "unavailable";
  /** Why it was rejected or not checked; absent when accepted. */
  readonly message?: string;
}

/** One problem in the library: the file, the path inside it (may be empty), what is wrong. */
export interface ProblemReport {
  readonly file: string;
  readonly path: string;
  readonly message: string;
}

/**
 * `ondemand-eks validate --output json`: one JSON object on stdout, whatever the exit
 * status. `definitions` is empty when the library has problems (it is not loaded then);
 * `server` is present with `--server` only.
 */
export interface ValidateReport {
  readonly library: string;
  readonly valid: boolean;
  readonly definitions: readonly DefinitionReport[];
  readonly problems: readonly ProblemReport[];
  readonly server?: readonly ServerCheck[];
}

/** The `--help` text of `validate` that documents its JSON report. */
export const VALIDATE_JSON_HELP = `
With --output json, stdout is one JSON object, whatever the exit status:
  { "library": "<directory>", "valid": true | false,
    "definitions": [{ "name", "kind": "job" | "long-polling",
                      "privilege": [{ "feature", "path" }], "access": { "<rule>": ["<pattern>"] } | null }],
    "problems": [{ "file", "path", "message" }],
    "server": [{ "definition", "kind", "outcome": "accepted" | "rejected" | "unavailable", "message"? }] }
"definitions" is empty when there are problems; "server" is there with --server only.`;

/**
 * A definition as the JSON report shows it.
 *
 * @example
 * ```ts
 * definitionReport(pods.get("default")); // { name: "default", kind: "job", privilege: [], access: null }
 * ```
 */
export function definitionReport(definition: PodDefinition): DefinitionReport {
  return {
    name: definition.name,
    kind: definition.longPolling ? "long-polling" : "job",
    privilege: privilegeUses(definition).map(({ feature, path }) => ({ feature, path })),
    access: definition.access ?? null,
  };
}
