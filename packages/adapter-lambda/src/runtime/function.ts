import type { ScheduleOutcome } from "@ondemand-eks/core";
import { createScheduler, type Scheduler, type SchedulerOptions } from "@ondemand-eks/runtime";
import {
  eventBridgeHandler,
  type LambdaContext,
  type SqsBatchResponse,
  type SqsEvent,
  sqsHandler,
} from "../handlers.js";
import { type LambdaConfig, readLambdaConfig } from "./config.js";

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
 * Everything a function instance keeps between events, built once at init by the
 * runtime's composition root: the configuration (checked), the submitter and its token
 * cache, the pod library, the logger. A configuration problem throws here, so the
 * function fails to initialise with a message that names the variable instead of
 * failing every event.
 */
export async function createLambdaFunction(
  env: Readonly<Record<string, string | undefined>>,
  overrides: LambdaFunctionOverrides = {},
): Promise<LambdaFunction> {
  const config = await readLambdaConfig(env);
  const scheduler = await createScheduler(config.scheduler, {
    env,
    // Lambda gives init 10 s in all; DescribeCluster and credentials must leave room.
    authTimeoutMs: 5_000,
    ...overrides,
  });
  const schedule = scheduler.schedule.bind(scheduler);
  return {
    config,
    scheduler,
    eventBridge: eventBridgeHandler({ schedule }),
    sqs: sqsHandler({ schedule, concurrency: config.sqsConcurrency, log: scheduler.log }),
  };
}
