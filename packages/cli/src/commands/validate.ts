import { type PodDefinition, type SchedulerSettings, sampleManifest } from "@ondemand-eks/core";
import { privilegeUses } from "@ondemand-eks/core/pod-definition";
import {
  bundledLibraryDir,
  checkPodLibrary,
  formatProblem,
  type LibraryProblem,
  loadPodLibrary,
  type PodLibrary,
} from "@ondemand-eks/pod-library";
import { createScheduler, type SchedulerConfig, silentLogger } from "@ondemand-eks/runtime";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit.js";
import type { CliIo } from "../io.js";
import { type CommandFlags, loadCliConfig } from "../settings.js";
import { definitionReport, type ServerCheck, type ValidateReport } from "../validate-report.js";

export interface ValidateFlags extends CommandFlags {
  /** Also dry-run every definition's manifest against the API server. */
  readonly server?: boolean;
  /** `text` (default): lines for people; `json`: one {@link ValidateReport}. */
  readonly output?: "text" | "json";
}

/**
 * `ondemand-eks validate`: every problem in the library, one per line on stderr, and a
 * non-zero exit if there is any (a privileged feature the definition does not
 * acknowledge is one, named with where it is). Also checks the default pod definition
 * exists. A library without problems gets, for each definition that needs privilege or
 * restricts access, the features with where and who may use it. With
 * `--server`, the API server dry-runs what each definition becomes (a Job for a made-up
 * job, or a long-polling definition's Deployment), with admission and strict field checks.
 * With `--output json`, all of it is one {@link ValidateReport} on stdout instead, and
 * stderr has a one-line summary when the exit status is not 0.
 */
export async function validate(flags: ValidateFlags, io: CliIo): Promise<number> {
  const { scheduler: config } = await loadCliConfig("validate", flags, io);
  const { settings } = config;
  if (config.library.kind === "s3") {
    throw new UsageError(
      "validate checks a library directory (an S3 library is checked as each entry point loads it)",
    );
  }
  const json = flags.output === "json";
  const directory = config.library.kind === "directory" ? config.library.path : bundledLibraryDir();
  const problems: LibraryProblem[] = [...(await checkPodLibrary(directory))];
  const pods = problems.length === 0 ? await loadPodLibrary(directory) : undefined;
  if (pods && !pods.has(settings.defaultPodDefinition)) {
    problems.push({
      file: directory,
      path: "",
      message: `the default pod definition "${settings.defaultPodDefinition}" is missing (add ${settings.defaultPodDefinition}.yaml or set --default-pod)`,
    });
  }
  const summary = `${problems.length} problem${problems.length === 1 ? "" : "s"} in ${directory}`;
  if (!pods || problems.length > 0) {
    if (json) {
      const report: ValidateReport = {
        library: directory,
        valid: false,
        definitions: [],
        problems,
      };
      io.stdout(`${JSON.stringify(report)}\n`);
    } else {
      for (const problem of problems) io.stderr(`${formatProblem(problem)}\n`);
    }
    io.stderr(`ondemand-eks: ${summary}\n`);
    return EXIT.invalid;
  }

  if (!json) {
    io.stdout(
      `${directory}: ${pods.size} pod definitions, no problems (${pods.names().join(", ")})\n`,
    );
    for (const definition of pods.definitions()) {
      for (const line of trustLines(definition)) io.stdout(`${line}\n`);
    }
  }
  let status: number = EXIT.done;
  let server: ServerCheck[] | undefined;
  if (flags.server) {
    server = await checkOnServer(
      pods,
      config,
      io,
      json ? () => {} : (check) => printCheck(check, io),
    );
    status = statusOf(server);
  }
  if (json) {
    const report: ValidateReport = {
      library: directory,
      valid: status === EXIT.done,
      definitions: pods.definitions().map(definitionReport),
      problems: [],
      ...(server ? { server } : {}),
    };
    io.stdout(`${JSON.stringify(report)}\n`);
  }
  if (status !== EXIT.done) {
    io.stderr("ondemand-eks: the API server did not accept every pod definition\n");
  }
  return status;
}

/** 3 when any definition could not be checked, else 1 when any was rejected, else 0. */
function statusOf(checks: readonly ServerCheck[]): number {
  if (checks.some((check) => check.outcome === "unavailable")) return EXIT.unavailable;
  if (checks.some((check) => check.outcome === "rejected")) return EXIT.invalid;
  return EXIT.done;
}

/** A server check as a line: accepted ones on stdout, the others on stderr. */
function printCheck(check: ServerCheck, io: CliIo): void {
  if (check.outcome === "accepted") io.stdout(`${check.definition}: ${check.message}\n`);
  else io.stderr(`${check.definition}: ${check.outcome}: ${check.message}\n`);
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

/**
 * Dry-runs what each definition becomes against the API server; `onCheck` hears each
 * result as it comes.
 */
async function checkOnServer(
  pods: PodLibrary,
  config: SchedulerConfig,
  io: CliIo,
  onCheck: (check: ServerCheck) => void,
): Promise<ServerCheck[]> {
  const scheduler = await createScheduler(config, { env: io.env, log: silentLogger });
  const submitter = scheduler.submitter;
  if (!submitter) throw new UsageError("validate --server needs a cluster");
  const settings: SchedulerSettings = config.settings;
  const checks: ServerCheck[] = [];
  try {
    for (const definition of pods.definitions()) {
      const manifest = sampleManifest(definition, settings);
      const outcome = await submitter.submit(manifest, { dryRun: true });
      const what = `${manifest.kind} ${outcome.namespace}/${outcome.name}`;
      const base = { definition: definition.name, kind: manifest.kind };
      let check: ServerCheck | undefined;
      // A dry-run AlreadyExists comes after validation and admission: the object passed.
      if (outcome.outcome === "created" || outcome.outcome === "exists") {
        check = {
          ...base,
          outcome: "accepted",
          message: `accepted by ${submitter.server} (${manifest.kind}, dry run)`,
        };
      } else if (outcome.outcome === "rejected") {
        check = {
          ...base,
          outcome: "rejected",
          message: `${what}: ${outcome.status} ${outcome.reason}: ${outcome.message}`,
        };
      } else if (outcome.outcome === "unavailable") {
        const attempts = `${outcome.attempts} attempt${outcome.attempts === 1 ? "" : "s"}`;
        check = {
          ...base,
          outcome: "unavailable",
          message: `${what} not checked after ${attempts}: ${outcome.message}`,
        };
      }
      if (check) {
        checks.push(check);
        onCheck(check);
      }
    }
  } finally {
    await scheduler.close();
  }
  return checks;
}
