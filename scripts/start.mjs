// `npm start`: the whole story on this machine. It brings up the local control plane
// (building it the first time), the Buildkite emulator and the test kubelet, runs the
// webhook adapter, creates a sample job in the emulator, which sends "Job Scheduled" to
// the adapter as Buildkite would, and shows the Job, its Pod and the job's log until the
// job has finished. Then it keeps serving, with the recipe to run more.
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stripVTControlCharacters } from "node:util";
import { BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { processIo, run } from "@ondemand-eks/cli";
import { SHARED_KUBECONFIG, startLocalBuildkite, upShared } from "@ondemand-eks/testenv";

// The agent marks each log line's time with an escape sequence: ESC _bk;t=<ms> BEL.
const TIMESTAMPS = new RegExp(`${String.fromCharCode(27)}_bk;t=\\d+${String.fromCharCode(7)}`, "g");
const say = (line = "") => process.stdout.write(`${line}\n`);
const progress = (line) => process.stderr.write(`testenv: ${line}\n`);
const SAMPLE = {
  command: 'echo "hello from $BUILDKITE_PIPELINE_SLUG, build $BUILDKITE_BUILD_NUMBER"',
  label: ":node: test",
  stepKey: "test",
  agentQueryRules: ["queue=default", "pod=node-postgres"],
  pipelineSlug: "my-pipeline",
};

let state;
let local;
try {
  state = await upShared(progress);
  local = await startLocalBuildkite({ kubeconfig: SHARED_KUBECONFIG, log: progress });
} catch (error) {
  process.stderr.write(`npm start: the local environment did not start: ${error.message}\n`);
  process.stderr.write(
    "Without it, `node packages/cli/dist/bin.js render --event examples/job-scheduled.json` shows the Job.\n",
  );
  process.exit(1);
}

// A webhook token for this checkout, kept next to the kubeconfig (git-ignored).
const tokenFile = join(SHARED_KUBECONFIG, "..", "webhook-token");
const token = (
  await readFile(tokenFile, "utf8").catch(async () => {
    const fresh = randomBytes(24).toString("hex");
    await writeFile(tokenFile, `${fresh}\n`, { mode: 0o600 });
    return fresh;
  })
).trim();
// Containers run in process groups of their own, which the terminal's signals do not
// reach: whatever way this process ends, they end with it. A closed terminal (SIGHUP)
// stops it as Ctrl-C does.
process.on("exit", () => local.kubelet.killAll());
process.once("SIGHUP", () => process.kill(process.pid, "SIGTERM"));
let closing;
const closeLocal = () => {
  closing ??= local.close();
  return closing;
};
const kubeconfig = `./${relative(process.cwd(), SHARED_KUBECONFIG)}`;
const config = new KubeConfig();
config.loadFromFile(SHARED_KUBECONFIG);
const io = processIo();
const status = await run(
  [
    "serve",
    "http",
    ...["--port", process.env.PORT ?? "8080", "--host", "127.0.0.1"],
    ...["--kubeconfig", SHARED_KUBECONFIG, "--webhook-token-file", tokenFile],
    ...["--agent-endpoint", local.buildkite.url],
  ],
  {
    ...io,
    stderr: (text) => {
      io.stderr(text);
      const url = /listening on (\S+)/.exec(text)?.[1];
      if (url) runSample(url).then(() => instructions(url), fail);
    },
  },
);
await closeLocal();
process.exit(status);

function fail(error) {
  process.stderr.write(`npm start: ${error.message}\n`);
  closeLocal().finally(() => process.exit(1));
}

/** Creates the sample job in the emulator, and follows it to the end. */
async function runSample(url) {
  local.buildkite.deliverTo({ kind: "webhook", url: `${url}/webhook`, token, signed: true });
  const id = local.buildkite.createJob(SAMPLE);
  say();
  say(`Created job ${id} in the Buildkite emulator (${SAMPLE.agentQueryRules.join(", ")}).`);
  say(`The emulator sent "Job Scheduled" to ${url}/webhook, signed as Buildkite signs it.`);
  let job = local.buildkite.job(id);
  for (let i = 0; i < 1200 && job.state !== "finished"; i++) {
    await sleep(100);
    job = local.buildkite.job(id);
  }
  const refused = job.timeline.find((entry) => entry.event === "event delivery failed");
  if (refused) throw new Error(`the webhook did not take the event: ${refused.detail}`);
  await showKubernetes(id);
  say("  The job's log, as the emulator received it from the agent:");
  for (const line of logLines(job.log)) say(`    | ${line}`);
  if (job.state !== "finished") throw new Error(`job ${id} did not finish within 2 minutes`);
  say(`job ${id} finished: exit ${job.exitStatus}`);
}

/** The Job and its Pod as the API server has them now. */
async function showKubernetes(id) {
  const namespace = local.namespace;
  const name = `buildkite-${id}`;
  let jobObject;
  for (let i = 0; i < 100; i++) {
    jobObject = await config
      .makeApiClient(BatchV1Api)
      .readNamespacedJob({ name, namespace })
      .catch(() => undefined);
    const done = jobObject?.status?.conditions?.some(
      (c) => ["Complete", "Failed"].includes(c.type) && c.status === "True",
    );
    if (done) break;
    await sleep(100);
  }
  const conditions = (jobObject?.status?.conditions ?? [])
    .filter((c) => c.status === "True")
    .map((c) => c.type);
  say(`  Job ${namespace}/${name}: ${conditions.join(", ") || "running"}`);
  const pods = await config.makeApiClient(CoreV1Api).listNamespacedPod({
    namespace,
    labelSelector: `batch.kubernetes.io/job-name=${name}`,
  });
  for (const pod of pods.items) {
    const statuses = [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ].map((c) => `${c.name} ${describeState(c.state)}`);
    say(`  Pod ${pod.metadata?.name} on ${pod.spec?.nodeName}: ${pod.status?.phase}`);
    say(`    containers: ${statuses.join("; ")}`);
  }
}

function describeState(state) {
  if (state?.terminated) return `exited ${state.terminated.exitCode} (${state.terminated.reason})`;
  if (state?.running) return "running";
  return state?.waiting?.reason ?? "waiting";
}

/** The log's lines without the agent's colours and timestamp markers. */
function logLines(log) {
  return stripVTControlCharacters(log.replace(TIMESTAMPS, ""))
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "");
}

function instructions(url) {
  const control = local.buildkite.controlUrl;
  say();
  say(`Local Kubernetes API server: ${state.server} (admin kubeconfig: ${kubeconfig})`);
  say(`Webhook adapter: ${url}/webhook (token in ${relative(process.cwd(), tokenFile)})`);
  say(`Buildkite emulator: agent API ${local.buildkite.url}, control API ${control}`);
  say(
    `Nodes (the test kubelet runs their pods as local processes): ${local.kubelet.nodes.join(", ")}`,
  );
  say();
  say("Run another job: create it in the emulator, which sends the webhook (paste into a shell):");
  say();
  say(`  curl -sS -X POST ${control}/jobs -H 'Content-Type: application/json' \\`);
  say(`    -d '{"command": "echo hi; uname -a", "agentQueryRules": ["queue=default"]}'`);
  say(`  curl -sS ${control}/jobs/<id from the answer>   # state, exitStatus, log, timeline`);
  say();
  say("See its Job and Pod with:");
  say(`  kubectl --kubeconfig ${kubeconfig} -n ${local.namespace} get jobs,pods`);
  say("Stop with Ctrl-C; `npm run testenv:down` stops the control plane and deletes its data.");
  say();
}
