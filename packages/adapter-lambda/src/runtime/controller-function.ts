import {
  type Controller,
  clusterTokenFrom,
  controllerFromSettings,
} from "@ondemand-eks/controller";
import { createScheduler, type Scheduler } from "@ondemand-eks/runtime";
import { type ControllerPassSummary, controllerHandler } from "../controller-handler.js";
import type { LambdaContext } from "../handlers.js";
import { readClusterToken } from "./cluster-token.js";
import { type ControllerLambdaConfig, readControllerLambdaConfig } from "./controller-config.js";
import type { LambdaFunctionOverrides } from "./function.js";

/** A scheduled controller function: what init builds, and its one handler. */
export interface ControllerFunction {
  readonly config: ControllerLambdaConfig;
  readonly scheduler: Scheduler;
  readonly controller: Controller;
  readonly handler: (event: unknown, context?: LambdaContext) => Promise<ControllerPassSummary>;
}

/**
 * Everything a scheduled controller function keeps between invocations, built once at
 * init: its configuration (checked), the cluster token (read once, from the secret or
 * parameter its ARN names, while the scheduler is built), the scheduler, and the
 * controller on it. A configuration problem or an unreadable token throws here, so the
 * function fails to initialise with a message that names the variable or the ARN.
 *
 * @example
 * const fn = await createControllerFunction(process.env);
 * export const handler = fn.handler;
 */
export async function createControllerFunction(
  env: Readonly<Record<string, string | undefined>>,
  overrides: LambdaFunctionOverrides = {},
): Promise<ControllerFunction> {
  const config = await readControllerLambdaConfig(env);
  const [read, built] = await Promise.allSettled([
    config.token.kind === "arn"
      ? readClusterToken(config.token.arn, { env })
      : clusterTokenFrom(config.settings, () => Promise.reject(new Error("no token file"))),
    // Lambda gives init 10 s in all; DescribeCluster and credentials must leave room.
    createScheduler(config.scheduler, { env, authTimeoutMs: 5_000, ...overrides }),
  ]);
  if (read.status === "rejected") {
    if (built.status === "fulfilled") await built.value.close();
    throw read.reason;
  }
  if (built.status === "rejected") throw built.reason;
  const [token, scheduler] = [read.value, built.value];
  const controller = controllerFromSettings(config.settings, scheduler, { token });
  return {
    config,
    scheduler,
    controller,
    handler: controllerHandler({ controller, log: scheduler.log }),
  };
}
