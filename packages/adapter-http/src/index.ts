/**
 * The HTTP entry point: Buildkite webhooks in, a scheduler's `schedule` out, with the
 * operations endpoints (health, readiness, Prometheus metrics). Built on node:http (see
 * README). The status of each outcome is decided in one place, {@link statusOf}.
 *
 * @module
 */
export { createWebhookHandler, statusOf, type WebhookHandlerOptions } from "./handler.js";
export { handleOps, type MetricsPort, type OpsOptions } from "./ops.js";
export { type OpsServer, startOpsServer } from "./ops-server.js";
export { startWebhookServer, type WebhookServer } from "./server.js";
export { type AuthResult, authenticateWebhook, type WebhookAuthOptions } from "./webhook-auth.js";
