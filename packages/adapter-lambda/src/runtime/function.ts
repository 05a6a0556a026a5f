import type { ScheduleOutcome } from "@ondemand-eks/core";
import { createScheduler, type Scheduler, type SchedulerOptions } from "@ondemand-eks/runtime";
import {
  eventBridgeHandler,
  type LambdaContext,
  type SqsBatchResponse,
  type SqsEvent,
  sqsHandler,
} from "../handlers.js";
import { type LambdaConfig, type LateEventConfig, readLambdaConfig } from "./config.js";
import type { LateEventCheck } from "./late-event-check.js";

/** The two handlers a deployed function exports; the template picks one. */
export interface LambdaFunction {
  readonly config: LambdaConfig;
  readonly scheduler: Scheduler;
  readonly eventBridge: (event: unknown, context?: LambdaContext) => Promise<ScheduleOutcome>;
  readonly sqs: (event: SqsEvent, context?: LambdaContext) => Promise<SqsBatchResponse>;
}

/** What tests (and embedders) may replace: the scheduler's options. */
export type LambdaFunctionOverrides = Pick<SchedulerOptions, "auth" | "s3" | "log">;

/**
 * The late-event check, with the token read once. Its module (and the Stacks client) is
 * loaded only when a token is configured.
 */
async function lateEventCheckOf(
  config: LateEventConfig,
  env: Readonly<Record<string, string | undefined>>,
): Promise<LateEventCheck> {
  const { lateEventCheck } = await import("./late-event-check.js");
  return lateEventCheck(config, { env });
}

/**
 * Everything a function instance keeps between events, built once at init by the
 * runtime's composition root: the configuration (checked), the submitter and its token
 * cache, the pod library, the logger. With a cluster token, the token is read (by ARN,
 * within 4 s) while the scheduler is built, and an event older than
 * `ONDEMAND_EKS_STALE_EVENT_SECONDS` whose job is already over in Buildkite makes no Job.
 * A configuration problem or an unreadable token throws here, so the function fails to
 * initialise with a message that names the variable or the ARN instead of failing every
 * event.
 *
 * @example
 * const fn = await createLambdaFunction(process.env);
 * export const eventBridge = fn.eventBridge;
 */
export async function createLambdaFunction(
  env: Readonly<Record<string, string | undefined>>,
  overrides: LambdaFunctionOverrides = {},
): Promise<LambdaFunction> {
  const config = await readLambdaConfig(env);
  const late = config.lateEvents;
  // Set once init has read the token; no event is handled before init ends.
  let check: LateEventCheck | undefined;
  const [read, built] = await Promise.allSettled([
    late ? lateEventCheckOf(late, env) : Promise.resolve(undefined),
    createScheduler(config.scheduler, {
      env,
      // Lambda gives init 10 s in all; DescribeCluster and credentials must leave room.
      authTimeoutMs: 5_000,
      ...(late
        ? {
            jobState: (uuid: string) => check?.jobState(uuid) ?? Promise.resolve(undefined),
            staleAfterMs: late.staleAfterMs,
          }
        : {}),
      ...overrides,
    }),
  ]);
  if (read.status === "rejected") {
    if (built.status === "fulfilled") await built.value.close();
    throw read.reason;
  }
  if (built.status === "rejected") throw built.reason;
  check = read.value;
  const scheduler = built.value;
  const schedule = scheduler.schedule.bind(scheduler);
  return {
    config,
    scheduler,
    eventBridge: eventBridgeHandler({ schedule }),
    sqs: sqsHandler({ schedule, concurrency: config.sqsConcurrency, log: scheduler.log }),
  };
}
