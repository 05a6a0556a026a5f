import { startOpsServer } from "@ondemand-eks/adapter-http";
import {
  checkControllerSettings,
  clusterTokenFrom,
  controllerFromSettings,
  createControllerMetrics,
} from "@ondemand-eks/controller";
import { createLogger, createScheduler } from "@ondemand-eks/runtime";
import { createMetrics } from "@ondemand-eks/runtime/metrics";
import { CLI_SETTINGS } from "../cli-settings.js";
import { EXIT } from "../exit.js";
import { type CliIo, untilShutdown } from "../io.js";
import { poolCountsRoute } from "../pool-counts.js";
import { type CommandFlags, loadCliConfig } from "../settings.js";

export interface ControllerFlags extends CommandFlags {
  readonly once?: boolean;
}

/**
 * `ondemand-eks controller`: the lifecycle controller, until SIGTERM, with health and
 * metrics; or, with `--once`, one pass and exit (cron jobs, the scheduled Lambda, tests):
 * 0 when the pass read everything (or another replica leads), 1 when Buildkite refused
 * the cluster token, 3 when Buildkite or the API server could not be read.
 */
export async function controller(flags: ControllerFlags, io: CliIo): Promise<number> {
  const { scheduler: config, settings } = await loadCliConfig(
    "controller",
    flags,
    io,
    checkControllerSettings,
  );
  const token = await clusterTokenFrom(settings, (path) => io.readFile(path, 64 * 1024));
  const log = createLogger({ level: config.logLevel, write: (line) => io.stdout(`${line}\n`) });
  const metrics = createMetrics();
  const controllerMetrics = createControllerMetrics();
  const scheduler = await createScheduler(config, { env: io.env, metrics, log });
  const running = controllerFromSettings(settings, scheduler, {
    token,
    metrics: controllerMetrics,
  });

  if (flags.once) {
    try {
      const report = await running.once();
      if (running.blocked) {
        io.stderr(`ondemand-eks: ${running.blocked}\n`);
        return EXIT.invalid;
      }
      if (!report) {
        const skipped = running.skipped;
        io.stderr(`ondemand-eks: no pass: ${skipped?.message ?? "nothing could be read"}\n`);
        // Another replica leading is normal; Buildkite out of reach may clear on retry.
        return skipped?.reason === "not-leading" ? EXIT.done : EXIT.unavailable;
      }
      const done = Object.entries(report.done)
        .filter(([, count]) => count > 0)
        .map(([kind, count]) => `${kind} ${count}`)
        .join(", ");
      io.stderr(`ondemand-eks: pass done: ${done || "nothing to do"}\n`);
      for (const problem of report.problems) io.stderr(`ondemand-eks: ${problem}\n`);
      return report.complete ? EXIT.done : EXIT.unavailable;
    } finally {
      await scheduler.close();
    }
  }

  const r = CLI_SETTINGS;
  const ops = await startOpsServer({
    port: settings.get(r.port) ?? 8080,
    host: settings.get(r.host) ?? "::",
    log: scheduler.log,
    metrics: {
      record: (outcome, seconds) => metrics.record(outcome, seconds),
      contentType: metrics.contentType,
      text: async () => (await metrics.text()) + (await controllerMetrics.text()),
    },
    // Ready while the API server answers and Buildkite accepts the cluster token.
    ready: () => scheduler.ready(),
    // KEDA's metrics-api reads each scaled pool's desired replicas here (GET /pools/<name>).
    routes: poolCountsRoute({
      desired: () => running.poolDesired(),
      definition: async (name) => {
        const pods = await scheduler.library();
        return pods.has(name) ? pods.get(name) : undefined;
      },
      now: Date.now,
    }),
  });
  running.start();
  io.stderr(
    `ondemand-eks: controller for queues ${config.settings.queues.join(", ")}; health and metrics on ${ops.url}\n`,
  );
  await untilShutdown(io);
  io.stderr("ondemand-eks: shutting down: finishing the pass in progress\n");
  await ops.close();
  await scheduler.close();
  return EXIT.done;
}
