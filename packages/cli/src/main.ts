import { Command, CommanderError, Option } from "commander";
// Commands are imported when they run: `serve http` never loads the AWS SDK for SQS,
// and `render` loads no Kubernetes client, which keeps each process smaller and quicker
// to start.
import { describeError } from "./errors.js";
import type { CliIo } from "./io.js";
import { CONFIG_ENV, describeDefault, LIBRARY_ENV, SETTING_SOURCES } from "./settings.js";

const EXIT_HELP = `
Exit status: 0 done (also when the event is not for us), 1 invalid input or settings,
or the API server refused the object, 2 usage error, 3 the API server could not be
reached before the timeout (retrying may help).
Settings come from, in rising precedence: defaults, the config file, environment
variables, flags.`;

function settingsOptions(command: Command): Command {
  command
    .option(
      "--library <dir>",
      `pod library directory (default: the bundled pods/; env ${LIBRARY_ENV})`,
    )
    .option("--config <file>", `YAML or JSON file of settings (env ${CONFIG_ENV})`);
  for (const source of SETTING_SOURCES) {
    const value = source.flag === "queue" ? "<queue>" : "<value>";
    const description = {
      namespace: "namespace the Jobs are created in",
      agentTokenSecret: "Secret holding the agent token",
      agentTokenSecretKey: "key of the agent token in that Secret",
      ttlSecondsAfterFinished: "seconds a finished Job is kept",
      activeDeadlineSeconds: "longest a Job may run, in seconds",
      queue: "a queue to serve (repeat for more); jobs for other queues are not for us",
      defaultPod: "pod definition for jobs that name none",
    }[source.flag as string];
    const option = new Option(
      `${source.option} ${value}`,
      `${description} (default: ${describeDefault(source.path)}; env ${source.env})`,
    );
    if (source.flag === "queue")
      option.argParser((item: string, previous: string[] = []) => [...previous, item]);
    command.addOption(option);
  }
  return command;
}

function clusterOptions(command: Command): Command {
  return command
    .option("--kubeconfig <file>", "kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "kubeconfig context (default: its current-context)")
    .option("--in-cluster", "use the pod's ServiceAccount token instead of a kubeconfig")
    .option(
      "--eks-cluster <name>",
      "an EKS cluster: find it with DescribeCluster and authenticate with IAM (AWS credential chain)",
    )
    .option("--region <region>", "AWS region of --eks-cluster (default: $AWS_REGION)")
    .option(
      "--timeout <seconds>",
      "give up on the API server after this long, retries included",
      "30",
    );
}

function outputOption(): Option {
  return new Option("-o, --output <format>", "output format")
    .choices(["yaml", "json"])
    .default("yaml");
}

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
  let status = 0;
  const program = new Command("ondemand-eks")
    .description("Start a Buildkite agent on Kubernetes for exactly the job Buildkite scheduled.")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => write(`ondemand-eks: ${text}`),
    })
    .showSuggestionAfterError(true)
    .addHelpText("after", EXIT_HELP);

  settingsOptions(
    program
      .command("render")
      .description("print the Kubernetes Job that would run a Buildkite job event")
      .requiredOption(
        "--event <file>",
        'event JSON: EventBridge event, its detail, or webhook body ("-" for stdin)',
      )
      .addOption(outputOption()),
  ).action(async (flags) => {
    status = await (await import("./commands/render.js")).render(flags, io);
  });

  settingsOptions(
    program
      .command("render-deployment")
      .description("print the Deployment of agents for a long-polling pod definition")
      .argument("<definition>", "name of a long-polling pod definition")
      .addOption(outputOption()),
  ).action(async (name: string, flags) => {
    status = await (await import("./commands/render-deployment.js")).renderDeployment(
      name,
      flags,
      io,
    );
  });

  settingsOptions(
    clusterOptions(
      program
        .command("schedule")
        .description("render the Job for a Buildkite job event and submit it to the cluster")
        .requiredOption(
          "--event <file>",
          'event JSON: EventBridge event, its detail, or webhook body ("-" for stdin)',
        )
        .option("--dry-run", "let the API server validate the Job without storing it")
        .addOption(
          new Option("-o, --output <format>", "output format")
            .choices(["text", "json"])
            .default("text"),
        ),
    ),
  ).action(async (flags) => {
    status = await (await import("./commands/schedule.js")).schedule(flags, io);
  });

  settingsOptions(
    clusterOptions(
      program
        .command("validate")
        .description("check every pod definition in the library and report all problems")
        .option(
          "--server",
          "also have the API server dry-run what each definition becomes (needs a cluster)",
        ),
    ),
  ).action(async (flags) => {
    status = await (await import("./commands/validate.js")).validate(flags, io);
  });

  const serve = program.command("serve").description("run an entry point until SIGTERM");
  settingsOptions(
    clusterOptions(
      serve
        .command("http")
        .description("receive Buildkite webhooks on POST /webhook and schedule their jobs")
        .option("--port <number>", "port to listen on (default: $PORT, then 8080)")
        .option("--host <address>", "address to listen on", "0.0.0.0")
        .option(
          "--webhook-token-file <file>",
          "file holding the webhook token (default: $BUILDKITE_WEBHOOK_TOKEN)",
        )
        .option("--require-signature", "accept only X-Buildkite-Signature, not a plain token")
        .option("--signature-window <seconds>", "largest accepted signature age", "300")
        .option("--body-limit <bytes>", "largest accepted body", String(1024 * 1024))
        .option("--dry-run", "render and log each Job instead of submitting it"),
    ),
  ).action(async (flags) => {
    status = await (await import("./commands/serve-http.js")).serveHttp(flags, io);
  });

  const consume = program.command("consume").description("consume a queue until SIGTERM");
  settingsOptions(
    clusterOptions(
      consume
        .command("sqs")
        .description(
          "take Buildkite events from an SQS queue (fed by EventBridge) and schedule their jobs",
        )
        .requiredOption("--queue-url <url>", "the queue's URL")
        .option("--concurrency <n>", "messages in progress at most", "10")
        .option("--wait <seconds>", "long-poll wait (0 to 20)", "20")
        .option(
          "--visibility-timeout <seconds>",
          "visibility while in progress, extended as needed",
          "60",
        )
        .option(
          "--port <number>",
          "port of /healthz, /readyz and /metrics (default: $PORT, then 8080)",
        )
        .option("--host <address>", "address of those endpoints", "0.0.0.0")
        .option("--sqs-endpoint <url>", "another SQS endpoint (a local emulator)"),
    ),
  ).action(async (flags) => {
    status = await (await import("./commands/consume-sqs.js")).consumeSqs(flags, io);
  });

  program
    .command("eks-token")
    .description(
      "print an EKS token as a kubectl ExecCredential (client.authentication.k8s.io/v1beta1)",
    )
    .requiredOption("--cluster-name <name>", "the EKS cluster's name")
    .option("--region <region>", "its AWS region (default: $AWS_REGION, then $AWS_DEFAULT_REGION)")
    .action(async (flags) => {
      status = await (await import("./commands/eks-token.js")).eksToken(flags, io);
    });

  for (const command of program.commands) command.addHelpText("after", EXIT_HELP);

  try {
    await program.parseAsync([...argv], { from: "user" });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help text).
      return error.exitCode === 0 ? 0 : 2;
    }
    io.stderr(`ondemand-eks: error: ${describeError(error)}\n`);
    return 1;
  }
}
