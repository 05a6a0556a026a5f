import { startWebhookServer } from "@ondemand-eks/adapter-http";
import { InvalidSettingsError, type Issue } from "@ondemand-eks/core";
import type { LoadedSettings } from "@ondemand-eks/core/config";
import { createLogger, createScheduler } from "@ondemand-eks/runtime";
import { createMetrics } from "@ondemand-eks/runtime/metrics";
import { CLI_SETTINGS } from "../cli-settings.js";
import { type CliIo, untilShutdown } from "../io.js";
import { type CommandFlags, loadCliConfig } from "../settings.js";

const r = CLI_SETTINGS;

/** One of the two ways to give the webhook token is needed: checked with every other setting. */
const needsToken = (settings: LoadedSettings): Issue[] =>
  settings.get(r.webhookToken) === undefined && settings.get(r.webhookTokenFile) === undefined
    ? [
        {
          path: `${r.webhookToken.env[0]}, ${r.webhookTokenFile.flag}`,
          message:
            "required: the webhook token, in the variable or in a file (never a flag: ps shows flags)",
        },
      ]
    : [];

/** The webhook token, from its file or its variable. */
async function webhookToken(settings: LoadedSettings, io: CliIo): Promise<string> {
  const file = settings.get(r.webhookTokenFile);
  const token = file ? (await io.readFile(file, 64 * 1024)).trim() : settings.get(r.webhookToken);
  if (!token) {
    throw new InvalidSettingsError([
      { path: r.webhookTokenFile.flag as string, message: `${file} is empty` },
    ]);
  }
  return token;
}

/** `ondemand-eks serve http`: the webhook adapter on the runtime's scheduler, until SIGTERM. */
export async function serveHttp(flags: CommandFlags, io: CliIo): Promise<number> {
  const { scheduler: config, settings } = await loadCliConfig("serve-http", flags, io, needsToken);
  const token = await webhookToken(settings, io);
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
