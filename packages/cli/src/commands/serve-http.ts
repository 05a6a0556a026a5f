import { startWebhookServer } from "@ondemand-eks/adapter-http";
import { InvalidSettingsError } from "@ondemand-eks/core";
import { createLogger, createScheduler } from "@ondemand-eks/runtime";
import { createMetrics } from "@ondemand-eks/runtime/metrics";
import { CLI_SETTINGS } from "../cli-settings.js";
import { type CliIo, untilShutdown } from "../io.js";
import { type CommandFlags, loadCliConfig } from "../settings.js";

/** The webhook token: from a file, or BUILDKITE_WEBHOOK_TOKEN; never a flag's value (ps shows those). */
async function webhookToken(file: string | undefined, fromEnv: string | undefined, io: CliIo) {
  const token = file ? (await io.readFile(file, 64 * 1024)).trim() : fromEnv?.trim();
  if (!token) {
    // A missing setting (the token is one), not a usage error: exit 1, like --queue-url.
    throw new InvalidSettingsError([
      file
        ? { path: CLI_SETTINGS.webhookTokenFile.flag as string, message: `${file} is empty` }
        : {
            path: "",
            message: `a webhook token is required: set ${CLI_SETTINGS.webhookToken.env[0]} or pass ${CLI_SETTINGS.webhookTokenFile.flag}`,
          },
    ]);
  }
  return token;
}

/** `ondemand-eks serve http`: the webhook adapter on the runtime's scheduler, until SIGTERM. */
export async function serveHttp(flags: CommandFlags, io: CliIo): Promise<number> {
  const { scheduler: config, settings } = await loadCliConfig("serve-http", flags, io);
  const r = CLI_SETTINGS;
  const token = await webhookToken(
    settings.get(r.webhookTokenFile),
    settings.get(r.webhookToken),
    io,
  );
  const scheduler = await createScheduler(config, {
    env: io.env,
    metrics: createMetrics(),
    log: createLogger({ level: config.logLevel, write: (line) => io.stdout(`${line}\n`) }),
  });
  const server = await startWebhookServer({
    port: settings.get(r.port) ?? 8080,
    host: settings.get(r.host) ?? "0.0.0.0",
    token,
    requireSignature: settings.get(r.requireSignature) ?? false,
    signatureWindowMs: settings.get(r.signatureWindowMs) ?? 300_000,
    bodyLimit: settings.get(r.bodyLimit) ?? 1024 * 1024,
    log: scheduler.log,
    ...(scheduler.metrics ? { metrics: scheduler.metrics } : {}),
    ready: () => scheduler.ready(),
    schedule: (input, context) => scheduler.schedule(input, context),
  });
  io.stderr(
    `ondemand-eks: listening on ${server.url} (POST /webhook; GET /healthz /readyz /metrics)${config.dryRun ? ", dry run: the API server validates each Job, nothing is stored" : ""}\n`,
  );
  await untilShutdown(io);
  io.stderr("ondemand-eks: shutting down: finishing requests in flight\n");
  await server.close();
  await scheduler.close();
  return 0;
}
