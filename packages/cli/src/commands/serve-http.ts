import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_BODIES_IN_FLIGHT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  startWebhookServer,
  webhookTokenProblem,
} from "@ondemand-eks/adapter-http";
import { InvalidSettingsError, type Issue } from "@ondemand-eks/core";
import type { LoadedSettings } from "@ondemand-eks/core/config";
import { createLogger, createScheduler } from "@ondemand-eks/runtime";
import { createMetrics } from "@ondemand-eks/runtime/metrics";
import { CLI_SETTINGS } from "../cli-settings.js";
import { type CliIo, untilShutdown } from "../io.js";
import { type CommandFlags, loadCliConfig } from "../settings.js";

const r = CLI_SETTINGS;

/**
 * Checked with every other setting: one of the two ways to give the webhook token, a
 * token from the variable long enough to be secret (one from a file is checked when
 * read), an operations port apart from the webhook's, and a header timeout within the
 * request timeout.
 */
const checkServeSettings = (settings: LoadedSettings): Issue[] => {
  const issues: Issue[] = [];
  const fromEnv = settings.get(r.webhookToken);
  if (fromEnv === undefined && settings.get(r.webhookTokenFile) === undefined) {
    issues.push({
      path: `${r.webhookToken.env[0]}, ${r.webhookTokenFile.flag}`,
      message:
        "required: the webhook token, in the variable or in a file (never a flag: ps shows flags)",
    });
  }
  const weak = fromEnv === undefined ? undefined : webhookTokenProblem(fromEnv);
  if (weak && settings.get(r.webhookTokenFile) === undefined) {
    issues.push({ path: r.webhookToken.env[0] as string, message: `the token ${weak}` });
  }
  const opsPort = settings.get(r.opsPort);
  if (opsPort !== undefined && opsPort !== 0 && opsPort === (settings.get(r.port) ?? 8080)) {
    issues.push({
      path: `${r.opsPort.flag}, ${r.port.flag}`,
      message: `the operations port (${opsPort}) must differ from the webhook's`,
    });
  }
  if (settings.get(r.opsHost) !== undefined && opsPort === undefined) {
    issues.push({
      path: r.opsHost.flag as string,
      message: `needs ${r.opsPort.flag}: without it, the operations endpoints share the webhook's port`,
    });
  }
  const headers = settings.get(r.headersTimeoutMs) ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const request = settings.get(r.requestTimeoutMs) ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (headers > request) {
    issues.push({
      path: `${r.headersTimeoutMs.flag}, ${r.requestTimeoutMs.flag}`,
      message: `the header timeout (${headers / 1000} s) must not exceed the request timeout (${request / 1000} s)`,
    });
  }
  return issues;
};

/** The webhook token, from its file (checked here) or its variable (checked with the settings). */
async function webhookToken(settings: LoadedSettings, io: CliIo): Promise<string> {
  const file = settings.get(r.webhookTokenFile);
  const token = file ? (await io.readFile(file, 64 * 1024)).trim() : settings.get(r.webhookToken);
  if (!token) {
    throw new InvalidSettingsError([
      { path: r.webhookTokenFile.flag as string, message: `${file} is empty` },
    ]);
  }
  const weak = file ? webhookTokenProblem(token) : undefined;
  if (weak) {
    throw new InvalidSettingsError([
      { path: r.webhookTokenFile.flag as string, message: `the token in ${file} ${weak}` },
    ]);
  }
  return token;
}

/** `ondemand-eks serve http`: the webhook adapter on the runtime's scheduler, until SIGTERM. */
export async function serveHttp(flags: CommandFlags, io: CliIo): Promise<number> {
  const { scheduler: config, settings } = await loadCliConfig(
    "serve-http",
    flags,
    io,
    checkServeSettings,
  );
  const token = await webhookToken(settings, io);
  // With a cluster token: a late event's job is checked in Buildkite before its Job is made.
  const { lateEventCheck } = await import("@ondemand-eks/controller");
  const check = await lateEventCheck(settings, config.settings.queues, (path) =>
    io.readFile(path, 64 * 1024),
  );
  const scheduler = await createScheduler(config, {
    env: io.env,
    ...check,
    metrics: createMetrics(),
    log: createLogger({ level: config.logLevel, write: (line) => io.stdout(`${line}\n`) }),
  });
  const host = settings.get(r.host) ?? "::";
  const opsPort = settings.get(r.opsPort);
  const server = await startWebhookServer({
    port: settings.get(r.port) ?? 8080,
    host,
    // With an operations port, the webhook's answers POST /webhook only.
    ...(opsPort === undefined
      ? {}
      : { ops: { port: opsPort, host: settings.get(r.opsHost) ?? host } }),
    token,
    requireSignature: settings.get(r.requireSignature) ?? false,
    signatureWindowMs: settings.get(r.signatureWindowMs) ?? 300_000,
    bodyLimit: settings.get(r.bodyLimit) ?? DEFAULT_BODY_LIMIT,
    maxConnections: settings.get(r.maxConnections) ?? DEFAULT_MAX_CONNECTIONS,
    maxBodiesInFlight: settings.get(r.maxBodiesInFlight) ?? DEFAULT_MAX_BODIES_IN_FLIGHT,
    headersTimeoutMs: settings.get(r.headersTimeoutMs) ?? DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: settings.get(r.requestTimeoutMs) ?? DEFAULT_REQUEST_TIMEOUT_MS,
    log: scheduler.log,
    ...(scheduler.metrics ? { metrics: scheduler.metrics } : {}),
    ready: () => scheduler.ready(),
    schedule: (input, context) => scheduler.schedule(input, context),
  });
  const routes = server.opsUrl
    ? `(POST /webhook); health and metrics on ${server.opsUrl} (GET /healthz /readyz /metrics)`
    : "(POST /webhook; GET /healthz /readyz /metrics)";
  io.stderr(
    `ondemand-eks: listening on ${server.url} ${routes}${config.dryRun ? ", dry run: the API server validates each Job, nothing is stored" : ""}\n`,
  );
  await untilShutdown(io);
  io.stderr("ondemand-eks: shutting down: finishing requests in flight\n");
  await server.close();
  await scheduler.close();
  return 0;
}
