import { type PodDefinition, type SchedulerSettings, sampleManifest } from "@ondemand-eks/core";
import { privilegeUses } from "@ondemand-eks/core/pod-definition";
import {
  bundledLibraryDir,
  checkPodLibrary,
  formatProblem,
  loadPodLibrary,
  type PodLibrary,
} from "@ondemand-eks/pod-library";
import { createScheduler, type SchedulerConfig, silentLogger } from "@ondemand-eks/runtime";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit.js";
import type { CliIo } from "../io.js";
import { type CommandFlags, loadCliConfig } from "../settings.js";

export interface ValidateFlags extends CommandFlags {
  /** Also dry-run every definition's manifest against the API server. */
  readonly server?: boolean;
}

/**
 * `ondemand-eks validate`: every problem in the library, one per line on stderr, and a
 * non-zero exit if there is any (a privileged feature the definition does not
 * acknowledge is one, named with where it is). Also checks the default pod definition
 * exists. A library without problems gets, for each definition that needs privilege or
 * restricts access, the features with where and who may use it. With
 * `--server`, the API server dry-runs what each definition becomes (a Job for a made-up
 * job, or a long-polling definition's Deployment), with admission and strict field checks.
 */
export async function validate(flags: ValidateFlags, io: CliIo): Promise<number> {
  const { scheduler: config } = await loadCliConfig("validate", flags, io);
  const { settings } = config;
  if (config.library.kind === "s3") {
    throw new UsageError(
      "validate checks a library directory (an S3 library is checked as each entry point loads it)",
    );
  }
  const directory = config.library.kind === "directory" ? config.library.path : bundledLibraryDir();
  const problems = (await checkPodLibrary(directory)).map(formatProblem);
  if (problems.length === 0) {
    const pods = await loadPodLibrary(directory);
    if (!pods.has(settings.defaultPodDefinition)) {
      problems.push(
        `${directory}: the default pod definition "${settings.defaultPodDefinition}" is missing (add ${settings.defaultPodDefinition}.yaml or set --default-pod)`,
      );
    } else {
      io.stdout(
        `${directory}: ${pods.size} pod definitions, no problems (${pods.names().join(", ")})\n`,
      );
      for (const definition of pods.definitions()) {
        for (const line of trustLines(definition)) io.stdout(`${line}\n`);
      }
      return flags.server ? validateOnServer(pods, config, io) : EXIT.done;
    }
  }
  for (const line of problems) io.stderr(`${line}\n`);
  io.stderr(
    `ondemand-eks: ${problems.length} problem${problems.length === 1 ? "" : "s"} in ${directory}\n`,
  );
  return EXIT.invalid;
}

/**
 * What a platform team reviews in a definition: the privilege its pod uses, each feature
 * with where, and who may use it. Nothing for a definition with neither.
 */
function trustLines(definition: PodDefinition): string[] {
  const lines: string[] = [];
  const uses = privilegeUses(definition);
  if (uses.length > 0) {
    const where = uses.map((use) => `${use.feature} at ${use.path}`).join(", ");
    lines.push(`${definition.name}: needs privilege: ${where}`);
  }
  if (definition.access !== undefined) {
    const rules = Object.entries(definition.access).map(
      ([rule, patterns]) => `${rule} ${patterns.length > 0 ? patterns.join(", ") : "(none)"}`,
    );
    const users = rules.length > 0 ? `jobs matching ${rules.join("; ")}` : "every job";
    lines.push(`${definition.name}: usable by ${users}`);
  } else if (uses.length > 0 && definition.longPolling) {
    // A long-polling pool takes no access rules: its queue is who may use it.
    lines.push(`${definition.name}: usable by every job on queue ${definition.longPolling.queue}`);
  }
  return lines;
}

async function validateOnServer(
  pods: PodLibrary,
  config: SchedulerConfig,
  io: CliIo,
): Promise<number> {
  const scheduler = await createScheduler(config, { env: io.env, log: silentLogger });
  const submitter = scheduler.submitter;
  if (!submitter) throw new UsageError("validate --server needs a cluster");
  const settings: SchedulerSettings = config.settings;
  let status: number = EXIT.done;
  try {
    for (const definition of pods.definitions()) {
      const manifest = sampleManifest(definition, settings);
      const outcome = await submitter.submit(manifest, { dryRun: true });
      const what = `${manifest.kind} ${outcome.namespace}/${outcome.name}`;
      // A dry-run AlreadyExists comes after validation and admission: the object passed.
      if (outcome.outcome === "created" || outcome.outcome === "exists") {
        io.stdout(
          `${definition.name}: accepted by ${submitter.server} (${manifest.kind}, dry run)\n`,
        );
      } else if (outcome.outcome === "rejected") {
        io.stderr(
          `${definition.name}: rejected: ${what}: ${outcome.status} ${outcome.reason}: ${outcome.message}\n`,
        );
        status = Math.max(status, EXIT.invalid);
      } else if (outcome.outcome === "unavailable") {
        io.stderr(
          `${definition.name}: unavailable: ${what} not checked after ${outcome.attempts} attempt${outcome.attempts === 1 ? "" : "s"}: ${outcome.message}\n`,
        );
        status = EXIT.unavailable;
      }
    }
  } finally {
    await scheduler.close();
  }
  if (status !== EXIT.done) {
    io.stderr("ondemand-eks: the API server did not accept every pod definition\n");
  }
  return status;
}
