// `npm start`: bring up the local control plane (building it the first time), schedule
// the bundled sample event through the real CLI, and show the Job it made.
import { setTimeout as sleep } from "node:timers/promises";
import { BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { processIo, run } from "@ondemand-eks/cli";
import { SHARED_KUBECONFIG, upShared } from "@ondemand-eks/testenv";

const EVENT = "examples/job-scheduled.json";
const say = (line = "") => process.stdout.write(`${line}\n`);

let state;
try {
  state = await upShared((line) => process.stderr.write(`testenv: ${line}\n`));
} catch (error) {
  process.stderr.write(`npm start: the local control plane did not start: ${error.message}\n`);
  process.stderr.write(
    "Without a cluster, `node packages/cli/dist/bin.js render --event examples/job-scheduled.json` shows the Job.\n",
  );
  process.exit(1);
}
const kubeconfig = "./.testenv/kubeconfig";
say(`Local Kubernetes API server: ${state.server} (admin kubeconfig: ${kubeconfig})`);
say(`Scheduling the sample event ${EVENT}:`);
let printed = "";
const status = await run(
  ["schedule", "--event", EVENT, "--kubeconfig", SHARED_KUBECONFIG, "-o", "json"],
  { ...processIo(), stdout: (text) => (printed += text) },
);
if (status !== 0) process.exit(status);
const outcome = JSON.parse(printed);
say(
  `  ${outcome.outcome}: Job ${outcome.namespace}/${outcome.name} (pod definition ${outcome.podDefinition})`,
);
await showJob(outcome.namespace, outcome.name);

async function showJob(namespace, name) {
  const config = new KubeConfig();
  config.loadFromFile(SHARED_KUBECONFIG);
  const batch = config.makeApiClient(BatchV1Api);
  const core = config.makeApiClient(CoreV1Api);
  const job = await batch.readNamespacedJob({ name, namespace });
  const uuid = job.metadata?.labels?.["buildkite.com/job-uuid"];
  let pods = [];
  for (let i = 0; i < 50 && pods.length === 0; i++) {
    pods = (
      await core.listNamespacedPod({
        namespace,
        labelSelector: `batch.kubernetes.io/job-name=${name}`,
      })
    ).items;
    if (pods.length === 0) await sleep(100);
  }
  say(`  created ${job.metadata?.creationTimestamp?.toISOString()}, uid ${job.metadata?.uid}`);
  for (const pod of pods) {
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map(
      (c) => c.name,
    );
    say(`  pod ${pod.metadata?.name}: ${pod.status?.phase} (containers: ${containers.join(", ")})`);
  }
  say("  No kubelet runs here, so the pod stays Pending; on a real cluster it runs the agent.");
  say();
  say("Look at it with kubectl:");
  say(
    `  kubectl --kubeconfig ${kubeconfig} -n ${namespace} get jobs,pods -l buildkite.com/job-uuid=${uuid}`,
  );
  say(`  kubectl --kubeconfig ${kubeconfig} -n ${namespace} get job ${name} -o yaml`);
  say("Run `npm start` again: the same event finds its Job and reports `exists`.");
  say("Stop the control plane and delete its data: npm run testenv:down");
}
