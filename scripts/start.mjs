// `npm start`: bring up the local control plane (building it the first time), then run
// the webhook adapter against it and print how to send it the bundled sample event.
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
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
const token = await readFile(tokenFile, "utf8").catch(async () => {
  const fresh = randomBytes(24).toString("hex");
  await writeFile(tokenFile, `${fresh}\n`, { mode: 0o600 });
  return fresh;
});
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
      if (url) instructions(url);
    },
  },
);
process.exit(status);

function instructions(url) {
  say();
  say(`Local Kubernetes API server: ${state.server} (admin kubeconfig: ${kubeconfig})`);
  say(`Webhook adapter: ${url}/webhook (token in ${relative(process.cwd(), tokenFile)})`);
  say();
  say("Send it the sample event, signed as Buildkite signs webhooks (paste into another shell):");
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
  say("It answers 202 with the Job's name (again: `exists`). See the Job and its Pod with:");
  say(`  kubectl --kubeconfig ${kubeconfig} -n buildkite get jobs,pods`);
  say("Stop with Ctrl-C; `npm run testenv:down` stops the control plane and deletes its data.");
  say();
}
