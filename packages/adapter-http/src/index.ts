/**
 * The HTTP entry point: Buildkite webhooks in, a scheduler's `schedule` out, with the
 * operations endpoints (health, readiness, Prometheus metrics) on the same port or on a
 * listener of their own (`ops`). Built on node:http (see
 * README). The status of each outcome is decided in one place, {@link statusOf}; what a
 * client may cost (bytes, connections, time) is bounded by {@link HttpLimits}.
 *
 * @module
 */
export { createWebhookHandler, statusOf, type WebhookHandlerOptions } from "./handler.js";
export {
  DEFAULT_BODY_LIMIT,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_IDLE_BODY_MS,
  DEFAULT_MAX_BODIES_IN_FLIGHT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SLOW_BODY_MS,
  type HttpLimits,
  MIN_TOKEN_LENGTH,
  resolveLimits,
  webhookTokenProblem,
} from "./limits.js";
export { DEFAULT_HOST, IPV4_ANY, type ListenOptions, listen, urlOf } from "./listen.js";
export { handleOps, type MetricsPort, type OpsOptions, sendJson } from "./ops.js";
export { type OpsServer, startOpsServer } from "./ops-server.js";
export {
  startWebhookServer,
  type WebhookServer,
  type WebhookServerOptions,
} from "./server.js";
export { type RefusalReason, Traffic, type TrafficStats } from "./traffic.js";
export {
  type AuthResult,
  authenticateWebhook,
  checkWebhookHeaders,
  type HeaderCheck,
  type WebhookAuthOptions,
} from "./webhook-auth.js";
