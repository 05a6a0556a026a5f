import { randomBytes } from "node:crypto";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type CliIo, processIo, run } from "@ondemand-eks/cli";
import {
  type BuildkiteEmulator,
  type LocalBuildkite,
  type Moto,
  startBuildkiteEmulator,
  startLambda,
} from "@ondemand-eks/testenv";
import { BUNDLE_DIR } from "./cold-start.js";
import type { E2ePathName } from "./e2e-stats.js";
import { type Poller, startPoller } from "./poller.js";

/**
 * The entry points of the `e2e` section, each as deployed and each in this process
 * (where the emulator and the test kubelet run too): `serve http` given the emulator's
 * signed webhook, `consume sqs` on a moto queue the emulator's EventBridge event is put
 * on, the Lambda bundle under the Runtime Interface Emulator invoked with that event, and
 * the polling peer (poller.ts).
 *
 * The emulator cannot remove a delivery target, so only one is ever added to the main
 * emulator: an EventBridge target whose `send` goes to the path being measured (a no-op
 * while the poller is). The webhook path gets an emulator of its own, with the same agent
 * token, whose one target is the webhook: its deliveries are the emulator's own (signed,
 * by fetch), not a copy of ours.
 */
export interface E2ePath {
  readonly name: E2ePathName;
  /** The emulator its jobs are created in. */
  readonly buildkite: BuildkiteEmulator;
  /** Makes this path the one that receives the next jobs' events. */
  activate(): void;
  /**
   * When our code had the job's event, where a queue stands between (the SQS consumer);
   * undefined for pushes, whose transport counts as ours.
   */
  receivedAt(jobId: string): number | undefined;
  /** Stops receiving (the poller stops polling). */
  deactivate(): Promise<void>;
  stop(): Promise<void>;
}

/** What the paths run against. */
export interface E2eWorld {
  readonly kubeconfig: string;
  readonly local: LocalBuildkite;
  readonly moto: Moto;
  readonly log: (line: string) => void;
}

type Send = (event: unknown) => Promise<void>;

const AWS_ENV = {
  AWS_ACCESS_KEY_ID: "AKIDBENCHE2E",
  AWS_SECRET_ACCESS_KEY: "bench",
  AWS_REGION: "us-east-1",
};

/** A log line as JSON; `{}` for one that is not. */
function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return {};
  }
}

/**
 * A long-running `ondemand-eks` command in this process, until `stop()`. Its one JSON
 * line per event gives `receivedAt`: the line's time less the scheduling's `durationMs`.
 */
export function runCli(argv: string[], env: Record<string, string>, announce: RegExp) {
  const controller = new AbortController();
  const received = new Map<string, number>();
  let errors = "";
  let found: (value: string) => void = () => {};
  const announced = new Promise<string>((resolve) => {
    found = resolve;
  });
  const io: CliIo = {
    stdout: (text) => {
      for (const line of text.split("\n")) {
        if (!line.startsWith("{")) continue;
        const entry = parseLine(line) as {
          msg?: string;
          job?: string;
          time?: string;
          durationMs?: number;
        };
        if (entry.msg === "event" && entry.job && entry.time && entry.durationMs !== undefined) {
          received.set(entry.job, Date.parse(entry.time) - entry.durationMs);
        }
      }
    },
    stderr: (text) => {
      errors = (errors + text).slice(-4_000);
      const match = announce.exec(text)?.[1];
      if (match !== undefined) found(match);
    },
    readStdin: async () => "",
    readFile: processIo().readFile,
    env,
    shutdown: () => controller.signal,
  };
  const done = run(argv, io);
  const failed = done.then((status) =>
    Promise.reject(
      new Error(`ondemand-eks ${argv.slice(0, 2).join(" ")} exited ${status}: ${errors}`),
    ),
  );
  failed.catch(() => {}); // read only by the race below: an exit after the announcement is a stop
  return {
    receivedAt: (jobId: string) => received.get(jobId),
    announced: Promise.race([announced, failed]),
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

/** Starts every path; `route` of the main emulator's one EventBridge target is theirs to set. */
export async function startE2ePaths(world: E2eWorld): Promise<E2ePath[]> {
  const { local, kubeconfig } = world;
  let route: Send = async () => {};
  local.buildkite.deliverTo({ kind: "eventbridge", send: (event) => route(event) });
  const eventBridgePath = (
    name: E2ePathName,
    send: Send,
    stop: () => Promise<void>,
    receivedAt: (jobId: string) => number | undefined = () => undefined,
  ): E2ePath => ({
    name,
    buildkite: local.buildkite,
    receivedAt,
    activate: () => {
      route = send;
    },
    deactivate: async () => {
      route = async () => {};
    },
    stop,
  });
  const paths: E2ePath[] = [];
  try {
    paths.push(await webhookPath(world));

    const sqs = new SQSClient({
      region: AWS_ENV.AWS_REGION,
      endpoint: world.moto.endpoint,
      credentials: {
        accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID,
        secretAccessKey: AWS_ENV.AWS_SECRET_ACCESS_KEY,
      },
    });
    const { QueueUrl = "" } = await sqs.send(
      new CreateQueueCommand({ QueueName: `bench-e2e-${randomBytes(4).toString("hex")}` }),
    );
    // The consumer's defaults, as deployed (a 20 s long poll, which moto ends when a
    // message arrives).
    const consumer = runCli(
      [
        "consume",
        "sqs",
        ...["--queue-url", QueueUrl, "--sqs-endpoint", world.moto.endpoint],
        ...["--port", "0", "--host", "127.0.0.1"],
        ...["--kubeconfig", kubeconfig, "--agent-endpoint", local.buildkite.url],
      ],
      AWS_ENV,
      /health and metrics on (\S+)/,
    );
    await consumer.announced;
    paths.push(
      eventBridgePath(
        "sqs",
        async (event) => {
          await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(event) }));
        },
        async () => {
          await consumer.stop();
          sqs.destroy();
        },
        consumer.receivedAt,
      ),
    );

    const lambda = await startLambda("bench-e2e", {
      handlerDir: BUNDLE_DIR,
      handler: "index.eventBridge",
      env: {
        ONDEMAND_EKS_KUBECONFIG: kubeconfig,
        ONDEMAND_EKS_AGENT_ENDPOINT: local.buildkite.url,
      },
    });
    paths.push(
      eventBridgePath(
        "lambda",
        async (event) => {
          const result = await lambda.invoke(event);
          if (result.status !== 200 || JSON.stringify(result.body).includes("errorType")) {
            throw new Error(`the function failed: ${result.raw}`);
          }
        },
        () => lambda.stop(),
      ),
    );

    const poller: Poller = await startPoller({
      endpoint: local.buildkite.url,
      clusterToken: local.agentToken,
      kubeconfig,
      agentEndpoint: local.buildkite.url,
      log: world.log,
    });
    paths.push({
      ...eventBridgePath(
        "poller",
        async () => {},
        () => poller.close(),
      ),
      activate: () => {
        route = async () => {};
        poller.start();
      },
      deactivate: () => poller.pause(),
    });
    return paths;
  } catch (error) {
    for (const path of paths) await path.stop().catch(() => {});
    throw error;
  }
}

/** `serve http` given the signed webhooks of an emulator of its own. */
async function webhookPath(world: E2eWorld): Promise<E2ePath> {
  const buildkite = await startBuildkiteEmulator({ agentToken: world.local.agentToken });
  const token = randomBytes(24).toString("hex");
  const server = runCli(
    [
      "serve",
      "http",
      ...["--port", "0", "--host", "127.0.0.1"],
      ...["--kubeconfig", world.kubeconfig, "--agent-endpoint", buildkite.url],
    ],
    { BUILDKITE_WEBHOOK_TOKEN: token },
    /listening on (\S+)/,
  );
  try {
    const url = await server.announced;
    buildkite.deliverTo({ kind: "webhook", url: `${url}/webhook`, token, signed: true });
  } catch (error) {
    await buildkite.close();
    throw error;
  }
  return {
    name: "webhook",
    buildkite,
    receivedAt: () => undefined,
    activate: () => {},
    deactivate: async () => {},
    async stop() {
      await server.stop();
      await buildkite.close();
    },
  };
}
