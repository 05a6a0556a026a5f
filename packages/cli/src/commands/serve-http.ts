import { createMetrics, startWebhookServer } from "@ondemand-eks/adapter-http";
import { type JobManifest, type SubmitResult, schedule } from "@ondemand-eks/core";
import { bundledLibraryDir, loadPodLibrary } from "@ondemand-eks/pod-library";
import { type ClusterFlags, submitterFor } from "../cluster.js";
import { CliError } from "../errors.js";
import { type CliIo, untilShutdown } from "../io.js";
import { wholeNumber } from "../numbers.js";
import { loadCliSettings, type SettingsFlags } from "../settings.js";

export interface ServeHttpFlags extends SettingsFlags, ClusterFlags {
  readonly port?: string;
  readonly host: string;
  readonly webhookTokenFile?: string;
  readonly requireSignature?: boolean;
  readonly signatureWindow: string;
  readonly bodyLimit: string;
  readonly dryRun?: boolean;
}

/** The webhook token: from a file, or BUILDKITE_WEBHOOK_TOKEN; never a flag's value (ps shows those). */
async function webhookToken(flags: ServeHttpFlags, io: CliIo): Promise<string> {
  const token = flags.webhookTokenFile
    ? (await io.readFile(flags.webhookTokenFile, 64 * 1024)).trim()
    : io.env.BUILDKITE_WEBHOOK_TOKEN?.trim();
  if (!token) {
    throw new CliError(
      flags.webhookTokenFile
        ? `--webhook-token-file: ${flags.webhookTokenFile} is empty`
        : "a webhook token is required: set BUILDKITE_WEBHOOK_TOKEN or pass --webhook-token-file",
    );
  }
  return token;
}

/** `ondemand-eks serve http`: the webhook adapter, until SIGTERM. */
export async function serveHttp(flags: ServeHttpFlags, io: CliIo): Promise<number> {
  const { settings, library } = await loadCliSettings(flags, io);
  const port = wholeNumber("--port", flags.port ?? io.env.PORT ?? "8080", 0, 65535);
  const windowSeconds = wholeNumber("--signature-window", flags.signatureWindow, 1, 86_400);
  const bodyLimit = wholeNumber("--body-limit", flags.bodyLimit, 1_024, 64 * 1024 * 1024);
  const token = await webhookToken(flags, io);
  const pods = await loadPodLibrary(library ?? bundledLibraryDir());
  const log = (entry: Record<string, unknown>) =>
    io.stdout(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);

  const submitter = flags.dryRun ? undefined : await submitterFor(flags, io);
  const submit = async (manifest: JobManifest): Promise<SubmitResult> => {
    if (!submitter) {
      log({
        msg: "dry-run: not submitted",
        name: manifest.metadata.name,
        namespace: manifest.metadata.namespace,
      });
      return {
        outcome: "created",
        name: manifest.metadata.name,
        namespace: manifest.metadata.namespace ?? "",
        attempts: 0,
      };
    }
    return submitter.submit(manifest);
  };
  const server = await startWebhookServer({
    port,
    host: flags.host,
    token,
    ...(flags.requireSignature ? { requireSignature: true } : {}),
    signatureWindowMs: windowSeconds * 1000,
    bodyLimit,
    metrics: createMetrics(),
    log,
    ready: async () => (submitter ? submitter.ping() : true),
    schedule: (input) => schedule(input, { settings, lookup: (name) => pods.get(name), submit }),
  });
  io.stderr(
    `ondemand-eks: listening on ${server.url} (POST /webhook; GET /healthz /readyz /metrics)${flags.dryRun ? ", dry run: nothing is submitted" : ""}\n`,
  );
  await untilShutdown(io);
  io.stderr("ondemand-eks: shutting down: finishing requests in flight\n");
  await server.close();
  submitter?.close();
  return 0;
}
