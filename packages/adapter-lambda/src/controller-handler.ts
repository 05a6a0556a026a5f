import type { Logger } from "@ondemand-eks/core";
import { ControllerPassError } from "./errors.js";
import type { LambdaContext } from "./handlers.js";

/** What one controller pass reports (the controller's `PassReport`, as far as it is read here). */
export interface PassReportLike {
  /** false when a read failed: nothing was decided on what could not be read. */
  readonly complete: boolean;
  /** Actions taken, by kind. */
  readonly done: Readonly<Record<string, number>>;
  readonly problems: readonly string[];
}

/** The part of the lifecycle controller the handler drives. */
export interface PassRunner {
  /** One pass if this replica can lead; undefined when it cannot (`blocked` may say why). */
  once(): Promise<PassReportLike | undefined>;
  /** Why the controller cannot work, when Buildkite refused its cluster token. */
  readonly blocked?: string | undefined;
  /** Why the last `once()` ran no pass: another replica leads, or Buildkite was out of reach. */
  readonly skipped?: { readonly message: string } | undefined;
}

/** What an invocation returns when its pass read everything. */
export interface ControllerPassSummary {
  readonly complete: true;
  /** Actions taken, by kind: `schedule` is a Job made for a job whose event was lost. */
  readonly done: Record<string, number>;
  /** Problems met on single jobs (a write refused, say); the pass itself read everything. */
  readonly problems: string[];
}

export interface ControllerHandlerDependencies {
  readonly controller: PassRunner;
  /** Told how each pass went, with the invocation's request id. */
  readonly log?: Logger;
}

/**
 * Handler for a scheduled EventBridge rule ("Scheduled Event"; its content is not
 * read): one controller pass per invocation, as `ondemand-eks controller --once` runs
 * it. A pass that read everything returns its summary. Anything else throws a
 * {@link ControllerPassError}, so Lambda counts an error (and an alarm on the function's
 * Errors metric fires): Buildkite refused the cluster token (`blocked`), the pass could
 * not read Buildkite or the cluster (`incomplete`), or no pass ran at all (the Lease is
 * held elsewhere, or Buildkite or the API server could not be reached first).
 *
 * Passes must not overlap: give the function a reserved concurrency of 1. Scheduled
 * invocations are asynchronous: set MaximumRetryAttempts to 0, the next pass is the retry.
 *
 * @example
 * export const handler = controllerHandler({ controller, log: scheduler.log });
 */
export function controllerHandler(dependencies: ControllerHandlerDependencies) {
  const { controller, log } = dependencies;
  return async (_event: unknown, context?: LambdaContext): Promise<ControllerPassSummary> => {
    const request = context?.awsRequestId ? { awsRequestId: context.awsRequestId } : {};
    const report = await controller.once();
    if (controller.blocked !== undefined) {
      throw new ControllerPassError(
        "blocked",
        `Buildkite refused the cluster token: ${controller.blocked}`,
      );
    }
    if (!report) {
      throw new ControllerPassError(
        "incomplete",
        `no pass ran: ${controller.skipped?.message ?? "see the log"}`,
      );
    }
    const summary = { done: { ...report.done }, problems: [...report.problems] };
    log?.info("controller pass", { ...request, complete: report.complete, ...summary });
    if (!report.complete) {
      throw new ControllerPassError(
        "incomplete",
        `the pass could not read Buildkite or the cluster: ${report.problems.join("; ") || "no detail"}`,
      );
    }
    return { complete: true, ...summary };
  };
}
