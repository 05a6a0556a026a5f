/**
 * Lambda handlers for Buildkite "Job Scheduled" events: from an EventBridge rule, or
 * from an SQS queue an EventBridge rule feeds. Each maps the disposition of an outcome
 * to what Lambda understands: return, throw, or a partial batch failure. And the handler
 * of a scheduled controller pass, which throws when the pass could not do its work.
 *
 * @module
 */

export {
  type ControllerHandlerDependencies,
  type ControllerPassSummary,
  controllerHandler,
  type PassReportLike,
  type PassRunner,
} from "./controller-handler.js";
export {
  ClusterTokenUnavailableError,
  ControllerPassError,
  type ControllerPassFailure,
  ScheduleFailedError,
} from "./errors.js";
export {
  eventBridgeHandler,
  type HandlerDependencies,
  type LambdaContext,
  type SqsBatchResponse,
  type SqsEvent,
  sqsHandler,
} from "./handlers.js";
