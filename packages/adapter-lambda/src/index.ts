/**
 * Lambda handlers for Buildkite "Job Scheduled" events: from an EventBridge rule, or
 * from an SQS queue an EventBridge rule feeds. Each maps the disposition of an outcome
 * to what Lambda understands: return, throw, or a partial batch failure.
 *
 * @module
 */

export { ScheduleFailedError } from "./errors.js";
export {
  eventBridgeHandler,
  type HandlerDependencies,
  type LambdaContext,
  type SqsBatchResponse,
  type SqsEvent,
  sqsHandler,
} from "./handlers.js";
