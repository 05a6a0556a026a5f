import type { z } from "zod";
import type { Issue } from "./errors.js";

/** Joins a zod path as `a.b[2].c`, prefixed by `base` when given. */
export function joinPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Converts zod issues to ours, re-pathed under `base` (for example `detail`). */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], base = ""): Issue[] {
  return issues.map((issue) => ({ path: joinPath(base, issue.path), message: issue.message }));
}

function received(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "array";
  return typeof input;
}

/**
 * Per-parse zod error map: shorter, plainer messages for the two issues users hit most
 * (a missing field, a value of the wrong type). Schema-level messages still win.
 */
export const zodErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) {
      return issue.expected === "nonoptional" ? "required" : `required: expected ${issue.expected}`;
    }
    return `expected ${issue.expected}, received ${received(issue.input)}`;
  }
  if (issue.code === "unrecognized_keys") {
    return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
  }
  return undefined;
};
