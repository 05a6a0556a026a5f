/**
 * The entry of the bundle deployed to Lambda (`dist/lambda/index.mjs`, with its chunks).
 * Init runs once per function instance: configuration from the environment, the
 * submitter, the pod library. Handlers: `index.eventBridge` for an EventBridge rule
 * target, `index.sqs` for an SQS event source.
 */
import { createLambdaFunction } from "./runtime/function.js";

const fn = await createLambdaFunction(process.env);

export const eventBridge = fn.eventBridge;
export const sqs = fn.sqs;
