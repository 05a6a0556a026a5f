import { z } from "zod";

/**
 * The shapes of the Stacks API's answers, as buildkite/stacksapi decodes them (`token`,
 * `scheduled_jobs.go`, `get_job_states.go`, `stack_notification.go`). Only what the
 * client reads is required; everything else passes through. Lists Buildkite leaves out or
 * sends as `null` read as empty.
 */

const strings = z
  .array(z.string())
  .nullish()
  .transform((list) => list ?? []);

/** `GET token`. */
export const tokenAnswer = z.looseObject({
  organization_slug: z.string(),
  organization_uuid: z.string(),
  cluster_uuid: z.string(),
  cluster_name: z.string().nullish(),
});

/** One job of `scheduled-jobs`: its id and priority are read, the rest is kept raw. */
export const scheduledJob = z.looseObject({
  id: z.string().min(1),
  // Priority only orders admission: a job without one (or with an odd one) is listed at 0
  // rather than making the whole queue's listing unreadable.
  priority: z
    .number()
    .nullish()
    .catch(0)
    .transform((value) => value ?? 0),
});

/** `GET stacks/{key}/scheduled-jobs`. */
export const scheduledJobsAnswer = z.looseObject({
  jobs: z
    .array(scheduledJob)
    .nullish()
    .transform((list) => list ?? []),
  cluster_queue: z.looseObject({ paused: z.boolean() }),
  page_info: z.looseObject({
    has_next_page: z.boolean(),
    end_cursor: z.string().nullish(),
  }),
});

/** `PUT stacks/{key}/scheduled-jobs/batch-reserve`. */
export const reserveAnswer = z.looseObject({ reserved: strings, not_reserved: strings });

/** `POST stacks/{key}/jobs/get-states`. */
export const statesAnswer = z.looseObject({
  states: z
    .record(z.string(), z.string())
    .nullish()
    .transform((states) => states ?? {}),
});

/** `POST stacks/{key}/notifications`: per-notification errors, by index. */
export const notifyAnswer = z.looseObject({
  errors: z
    .array(z.looseObject({ error: z.string().optional(), indexes: z.array(z.number()).optional() }))
    .nullish(),
});

/** An answer whose body the client does not read (`register`, `deregister`, `finish`). */
export const anyAnswer = z.unknown();

/**
 * The first issue of a failed parse as `path: message`, for error messages.
 *
 * @example
 * describeIssue(result.error); // "page_info.has_next_page: Invalid input: expected boolean"
 */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "unexpected shape";
  const path = issue.path.map(String).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}
