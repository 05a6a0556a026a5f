// `npm start`: bring up the local control plane (building it the first time), then run
// the webhook adapter against it and print how to send it the bundled sample event.
import { createHmac, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
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

// A webhook token for this checkout, kept next to the kubeconfig (git-ignored).
const tokenFile = join(SHARED_KUBECONFIG, "..", "webhook-token");
const token = (
  await readFile(tokenFile, "utf8").catch(async () => {
    const fresh = randomBytes(24).toString("hex");
    await writeFile(tokenFile, `${fresh}\n`, { mode: 0o600 });
    return fresh;
  })
).trim();
const kubeconfig = `./${relative(process.cwd(), SHARED_KUBECONFIG)}`;
const io = processIo();
const status = await run(
  [
    "serve",
    "http",
    "--port",
    process.env.PORT ?? "8080",
    "--host",
    "127.0.0.1",
    "--kubeconfig",
    SHARED_KUBECONFIG,
    "--webhook-token-file",
    tokenFile,
  ],
  {
    ...io,
    stderr: (text) => {
      io.stderr(text);
      const url = /listening on (\S+)/.exec(text)?.[1];
      if (url) scheduleSample(url).then(() => instructions(url), fail);
    },
  },
);
process.exit(status);

function fail(error) {
  process.stderr.write(`npm start: ${error.message}\n`);
  process.exit(1);
}

/** Sends the sample event to the adapter, signed like Buildkite, and shows the Job it made. */
async function scheduleSample(url) {
  const body = (await readFile(EVENT, "utf8")).trimEnd();
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac("sha256", token).update(`${timestamp}.${body}`).digest("hex");
  const response = await fetch(`${url}/webhook`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-buildkite-event": "job.scheduled",
      "x-buildkite-signature": `timestamp=${timestamp},signature=${signature}`,
    },
  });
  const outcome = await response.json();
  say();
  say(`Scheduled the sample event ${EVENT} through the webhook: HTTP ${response.status}`);
  say(
    `  ${outcome.outcome}: Job ${outcome.namespace}/${outcome.name} (pod definition ${outcome.podDefinition})`,
  );
  if (response.status !== 202)
    throw new Error(`the sample event was not scheduled: ${JSON.stringify(outcome)}`);
  const config = new KubeConfig();
  config.loadFromFile(SHARED_KUBECONFIG);
  const job = await config
    .makeApiClient(BatchV1Api)
    .readNamespacedJob({ name: outcome.name, namespace: outcome.namespace });
  let pods = [];
  // A control plane that just started needs a few seconds before its Job controller acts.
  for (let i = 0; i < 300 && pods.length === 0; i++) {
    pods = (
      await config.makeApiClient(CoreV1Api).listNamespacedPod({
        namespace: outcome.namespace,
        labelSelector: `batch.kubernetes.io/job-name=${outcome.name}`,
      })
    ).items;
    if (pods.length === 0) await sleep(100);
  }
  say(`  created ${job.metadata?.creationTimestamp?.toISOString()}, uid ${job.metadata?.uid}`);
  for (const pod of pods) {
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    say(
      `  pod ${pod.metadata?.name}: ${pod.status?.phase} (containers: ${containers.map((c) => c.name).join(", ")})`,
    );
  }
  if (pods.length === 0) say("  no Pod yet: the Job controller has not acted within 30 s");
  say("  No kubelet runs here, so the pod stays Pending; on a real cluster it runs the agent.");
}

function instructions(url) {
  say();
  say(`Local Kubernetes API server: ${state.server} (admin kubeconfig: ${kubeconfig})`);
  say(`Webhook adapter: ${url}/webhook (token in ${relative(process.cwd(), tokenFile)})`);
  say();
  say(
    "Send it the sample event yourself, signed as Buildkite signs webhooks (paste into another shell):",
  );
  say();
  say(`  TOKEN=$(cat ${relative(process.cwd(), tokenFile)}) BODY=$(cat ${EVENT}) TS=$(date +%s)`);
  say(
    `  SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$TOKEN" -r | cut -d' ' -f1)`,
  );
  say(`  curl -sS -X POST ${url}/webhook -H 'Content-Type: application/json' \\`);
  say(
    `    -H 'X-Buildkite-Event: job.scheduled' -H "X-Buildkite-Signature: timestamp=$TS,signature=$SIG" \\`,
  );
  say(`    --data-binary "$BODY"`);
  say();
  say(
    "It answers 202 with the outcome (now `exists`: one Buildkite job never makes two Jobs). See the Job and its Pod with:",
  );
  say(`  kubectl --kubeconfig ${kubeconfig} -n buildkite get jobs,pods`);
  say("Stop with Ctrl-C; `npm run testenv:down` stops the control plane and deletes its data.");
  say();
}
