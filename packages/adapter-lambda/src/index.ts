/**
 * Lambda handlers for Buildkite "Job Scheduled" events: from an EventBridge rule, or
 * from an SQS queue an EventBridge rule feeds. Each maps the core's schedule() outcome to
 * what Lambda understands: return, throw, or a partial batch failure.
 */
export {
  eventBridgeHandler,
  type HandlerDependencies,
  ScheduleFailedError,
  type SqsBatchResponse,
  type SqsEvent,
  sqsHandler,
} from "./handlers.js";
