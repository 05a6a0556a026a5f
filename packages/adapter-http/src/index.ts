/**
 * The HTTP entry point: Buildkite webhooks in, the core's schedule() out, with health,
 * readiness and Prometheus metrics endpoints. Built on node:http (see README).
 */
export { createWebhookHandler, type WebhookHandlerOptions } from "./handler.js";
export { type AdapterMetrics, createMetrics } from "./metrics.js";
export { startOpsServer } from "./ops-server.js";
export { startWebhookServer, type WebhookServer } from "./server.js";
export { type AuthResult, authenticateWebhook, type WebhookAuthOptions } from "./webhook-auth.js";
