import { createHmac, randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliIo, processIo, run } from "@ondemand-eks/cli";
import { startTestControlPlane, type TestRun } from "@ondemand-eks/testenv";
import { adapterContract, type Observed } from "@ondemand-eks/testenv/contract";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll } from "vitest";
import { tempDir } from "./helpers.js";

const TOKEN = "contract-token-0123456789abcdef0123456789";

// Its own control plane, started here so that without Go it is reported as skipped.
const plane: TestRun = await startTestControlPlane("cli-contract-http", {
  controllerManager: false,
});
afterAll(() => plane.teardown());

/** A library: the bundled default, and a definition the API server refuses. */
function library(): string {
  return tempDir({
    "default.yaml": readFileSync(new URL("../../../pods/default.yaml", import.meta.url), "utf8"),
    "broken.yaml":
      'name: broken\nagent:\n  image: buildkite/agent:3\npod:\n  nodeSelector:\n    "not a valid key!": x\n',
  });
}

const STATUS: Record<number, Observed> = {
  202: "created",
  200: "ignored",
  400: "invalid",
  503: "failed",
};

describeWith(plane.info, "contract: HTTP webhook adapter", () => {
  adapterContract({
    run: () => plane,
    library: plane.info.available ? library() : "",
    body: ({ uuid, rules }) =>
      JSON.stringify({
        event: "job.scheduled",
        job: { id: uuid, type: "script", agent_query_rules: rules, state: "scheduled" },
        build: { id: randomUUID(), number: 1, branch: "main" },
        pipeline: { id: randomUUID(), slug: "contract" },
      }),
    otherEventType: () => JSON.stringify({ event: "build.started", build: { id: randomUUID() } }),
    start: async (testRun, libraryDir) => {
      const kubeconfig = join(tempDir(), "kubeconfig");
      if (!testRun.state) throw new Error("no control plane");
      writeFileSync(kubeconfig, readFileSync(testRun.state.kubeconfig));
      const controller = new AbortController();
      let announce: (url: string) => void = () => {};
      const listening = new Promise<string>((resolve) => {
        announce = resolve;
      });
      const io: CliIo = {
        stdout: () => {},
        stderr: (text) => {
          const url = /listening on (\S+)/.exec(text)?.[1];
          if (url) announce(url);
        },
        readStdin: async () => "",
        readFile: processIo().readFile,
        env: { BUILDKITE_WEBHOOK_TOKEN: TOKEN },
        shutdown: () => controller.signal,
      };
      const done = run(
        [
          "serve",
          "http",
          "--port",
          "0",
          "--host",
          "127.0.0.1",
          "--kubeconfig",
          kubeconfig,
          "--library",
          libraryDir,
          "--timeout",
          "60",
        ],
        io,
      );
      const url = await Promise.race([
        listening,
        done.then((status) => {
          throw new Error(`serve http exited ${status} before listening`);
        }),
      ]);
      return {
        async deliver(body) {
          const timestamp = Math.floor(Date.now() / 1000);
          const signature = createHmac("sha256", TOKEN)
            .update(`${timestamp}.${body}`)
            .digest("hex");
          const response = await fetch(`${url}/webhook`, {
            method: "POST",
            body,
            headers: {
              "content-type": "application/json",
              "x-buildkite-signature": `timestamp=${timestamp},signature=${signature}`,
            },
          });
          const reply = (await response.json()) as { outcome?: Observed };
          // 202 covers created and exists: the body says which.
          return response.status === 202
            ? (reply.outcome ?? "created")
            : (STATUS[response.status] ?? "failed");
        },
        async stop() {
          controller.abort();
          await done;
        },
      };
    },
  });
});
