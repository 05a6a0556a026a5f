/**
 * The entry of the scheduled controller function in the bundle deployed to Lambda
 * (`dist/lambda/controller.mjs`, sharing chunks with `index.mjs`). Init runs once per
 * function instance: configuration from the environment, the cluster token from the
 * secret or parameter `ONDEMAND_EKS_CLUSTER_TOKEN_ARN` names, the scheduler and the
 * controller. Handler: `controller.handler`, for an EventBridge schedule rule target.
 *
 * @module
 */
import { createControllerFunction } from "./runtime/controller-function.js";

const fn = await createControllerFunction(process.env);

export const handler = fn.handler;
