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
