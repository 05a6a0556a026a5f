import type { Scope } from "@ondemand-eks/core/config";
import { Command, CommanderError, Option } from "commander";
// The version printed by --version: inlined from our own package.json when built.
import { version } from "../package.json";
// Commands are imported when they run: `serve http` never loads the AWS SDK for SQS,
// and `render` loads no Kubernetes client, which keeps each process smaller and quicker
// to start.
import { describeError } from "./errors.js";
import { EXIT, EXIT_HELP, exitForError } from "./exit.js";
import type { CliIo } from "./io.js";
import { settingOptions } from "./settings.js";
import { VALIDATE_JSON_HELP } from "./validate-report.js";

/** Adds the options of every setting of `scope`, from the settings table. */
function withSettings(command: Command, scope: Scope): Command {
  for (const option of settingOptions(scope)) command.addOption(option);
  return command;
}

function outputOption(choices: readonly string[] = ["yaml", "json"]): Option {
  return new Option("-o, --output <format>", "output format").choices(choices).default(choices[0]);
}

const EVENT_OPTION = [
  "--event <file>",
  'event JSON: EventBridge event, its detail, or webhook body ("-" for stdin)',
] as const;

/**
 * Runs the CLI with `argv` (without node and script) against `io`; resolves to the exit
 * status. Never throws and never prints a stack trace.
 *
 * @example
 * ```ts
 * process.exitCode = await run(process.argv.slice(2), processIo());
 * ```
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let status: number = EXIT.done;
  const program = new Command("ondemand-eks")
    .description("Start a Buildkite agent on Kubernetes for exactly the job Buildkite scheduled.")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => write(`ondemand-eks: ${text}`),
    })
    .showSuggestionAfterError(true)
    .version(version, "-V, --version", "print the version of ondemand-eks")
    .addHelpText("after", EXIT_HELP);

  withSettings(
    program
      .command("render")
      .description("print the Kubernetes Job that would run a Buildkite job event")
      .requiredOption(...EVENT_OPTION)
      .addOption(outputOption()),
    "render",
  ).action(async (flags) => {
    status = await (await import("./commands/render.js")).render(flags, io);
  });

  withSettings(
    program
      .command("render-deployment")
      .description("print the Deployment of agents for a long-polling pod definition")
      .argument("<definition>", "name of a long-polling pod definition")
      .addOption(outputOption()),
    "render-deployment",
  ).action(async (name: string, flags) => {
    status = await (await import("./commands/render-deployment.js")).renderDeployment(
      name,
      flags,
      io,
    );
  });

  withSettings(
    program
      .command("schedule")
      .description("render the Job for a Buildkite job event and submit it to the cluster")
      .requiredOption(...EVENT_OPTION)
      .addOption(outputOption(["text", "json"])),
    "schedule",
  ).action(async (flags) => {
    status = await (await import("./commands/schedule.js")).schedule(flags, io);
  });

  withSettings(
    program
      .command("validate")
      .description("check every pod definition in the library and report all problems")
      .option(
        "--server",
        "also have the API server dry-run what each definition becomes (needs a cluster)",
      )
      .addOption(outputOption(["text", "json"]))
      .addHelpText("after", VALIDATE_JSON_HELP),
    "validate",
  ).action(async (flags) => {
    status = await (await import("./commands/validate.js")).validate(flags, io);
  });

  const serve = program.command("serve").description("run an entry point until SIGTERM");
  withSettings(
    serve
      .command("http")
      .description("receive Buildkite webhooks on POST /webhook and schedule their jobs"),
    "serve-http",
  ).action(async (flags) => {
    status = await (await import("./commands/serve-http.js")).serveHttp(flags, io);
  });

  const consume = program.command("consume").description("consume a queue until SIGTERM");
  withSettings(
    consume
      .command("sqs")
      .description(
        "take Buildkite events from an SQS queue (fed by EventBridge) and schedule their jobs",
      ),
    "consume-sqs",
  ).action(async (flags) => {
    status = await (await import("./commands/consume-sqs.js")).consumeSqs(flags, io);
  });

  withSettings(
    program
      .command("controller")
      .description(
        "follow the Jobs we made and Buildkite's Stacks API: schedule jobs whose events were lost, fail jobs whose pods cannot start, stop cancelled ones, cap what runs",
      )
      .option("--once", "run every loop once, then exit (cron jobs, the scheduled Lambda)"),
    "controller",
  ).action(async (flags) => {
    status = await (await import("./commands/controller.js")).controller(flags, io);
  });

  const reconcile = program
    .command("reconcile")
    .description("make the cluster match the pod library once");
  withSettings(
    reconcile
      .command("deployments")
      .description(
        "apply a Deployment for every long-polling pod definition, delete ours whose definition is gone; leave objects we did not make alone",
      )
      .addOption(outputOption(["text", "json"])),
    "reconcile-deployments",
  ).action(async (flags) => {
    status = await (await import("./commands/reconcile-deployments.js")).reconcileDeployments(
      flags,
      io,
    );
  });

  program
    .command("eks-token")
    .description(
      "print an EKS token as a kubectl ExecCredential, in the apiVersion $KUBERNETES_EXEC_INFO asks for (default client.authentication.k8s.io/v1beta1)",
    )
    .requiredOption("--cluster-name <name>", "the EKS cluster's name")
    .option("--region <region>", "its AWS region (default: $AWS_REGION, then $AWS_DEFAULT_REGION)")
    .action(async (flags) => {
      status = await (await import("./commands/eks-token.js")).eksToken(flags, io);
    });

  for (const command of [
    ...program.commands,
    ...serve.commands,
    ...consume.commands,
    ...reconcile.commands,
  ]) {
    command.addHelpText("after", EXIT_HELP);
  }

  try {
    await program.parseAsync([...argv], { from: "user" });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help text).
      return error.exitCode === 0 ? EXIT.done : EXIT.usage;
    }
    io.stderr(`ondemand-eks: error: ${describeError(error)}\n`);
    return exitForError(error);
  }
}
