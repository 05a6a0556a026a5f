import { type SchedulerSettings, sampleManifest } from "@ondemand-eks/core";
import {
  bundledLibraryDir,
  checkPodLibrary,
  formatProblem,
  loadPodLibrary,
  type PodLibrary,
} from "@ondemand-eks/pod-library";
import { type ClusterFlags, describeOutcome, outcomeStatus, submitterFor } from "../cluster.js";
import type { CliIo } from "../io.js";
import { loadCliSettings, type SettingsFlags } from "../settings.js";

export interface ValidateFlags extends SettingsFlags, ClusterFlags {
  /** Also dry-run every definition's manifest against the API server. */
  readonly server?: boolean;
}

/**
 * `ondemand-eks validate`: every problem in the library, one per line on stderr, and a
 * non-zero exit if there is any. Also checks the default pod definition exists. With
 * `--server`, the API server dry-runs what each definition becomes (a Job for a made-up
 * job, or a long-polling definition's Deployment), with admission and strict field checks.
 */
export async function validate(flags: ValidateFlags, io: CliIo): Promise<number> {
  const { settings, library } = await loadCliSettings(flags, io);
  const directory = library ?? bundledLibraryDir();
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
      return flags.server ? validateOnServer(pods, settings, flags, io) : 0;
    }
  }
  for (const line of problems) io.stderr(`${line}\n`);
  io.stderr(
    `ondemand-eks: ${problems.length} problem${problems.length === 1 ? "" : "s"} in ${directory}\n`,
  );
  return 1;
}

async function validateOnServer(
  pods: PodLibrary,
  settings: SchedulerSettings,
  flags: ValidateFlags,
  io: CliIo,
): Promise<number> {
  const submitter = await submitterFor(flags, io);
  let status = 0;
  try {
    for (const definition of pods.definitions()) {
      const manifest = sampleManifest(definition, settings);
      const outcome = await submitter.submit(manifest, { dryRun: true });
      // A dry-run AlreadyExists comes after validation and admission: the object passed.
      if (outcome.outcome === "created" || outcome.outcome === "exists") {
        io.stdout(
          `${definition.name}: accepted by ${submitter.server} (${manifest.kind}, dry run)\n`,
        );
      } else {
        io.stderr(`${definition.name}: ${describeOutcome(outcome, manifest.kind)}\n`);
        status = Math.max(status, outcomeStatus(outcome));
      }
    }
  } finally {
    submitter.close();
  }
  if (status !== 0) io.stderr("ondemand-eks: the API server did not accept every pod definition\n");
  return status;
}
