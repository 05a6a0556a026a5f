import { createHmac, randomUUID } from "node:crypto";
import { type CliIo, processIo, run } from "@ondemand-eks/cli";
import { describe, expect, it } from "vitest";
import { describeWithCluster, jobExists, kubeconfigPath } from "./cluster.js";

const TOKEN = "serve-http-test-token";

/** Runs `ondemand-eks serve http` in-process until stop(), capturing its output. */
function serve(argv: string[], env: Record<string, string> = { BUILDKITE_WEBHOOK_TOKEN: TOKEN }) {
  let stdout = "";
  let stderr = "";
  const controller = new AbortController();
  let announce: (url: string) => void = () => {};
  const listening = new Promise<string>((resolve) => {
    announce = resolve;
  });
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
      const url = /listening on (\S+)/.exec(text)?.[1];
      if (url) announce(url);
    },
    readStdin: async () => "",
    readFile: processIo().readFile,
    env,
    shutdown: () => controller.signal,
  };
  const done = run(["serve", "http", "--port", "0", "--host", "127.0.0.1", ...argv], io);
  return {
    listening,
    done,
    output: () => ({ stdout, stderr }),
    stop: async () => {
      controller.abort();
      return done;
    },
  };
}

function webhookBody(uuid: string, rules = ["queue=default", "pod=node-postgres"]) {
  return JSON.stringify({
    event: "job.scheduled",
    job: { id: uuid, type: "script", agent_query_rules: rules, state: "scheduled" },
    build: { id: randomUUID(), number: 7, branch: "main" },
    pipeline: { id: randomUUID(), slug: "my-pipeline" },
  });
}

function signed(body: string) {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac("sha256", TOKEN).update(`${timestamp}.${body}`).digest("hex");
  return {
    "content-type": "application/json",
    "x-buildkite-event": "job.scheduled",
    "x-buildkite-signature": `timestamp=${timestamp},signature=${signature}`,
  };
}

describe("ondemand-eks serve http: settings", () => {
  it("needs a webhook token from the environment or a file, never a flag", async () => {
    const result = serve([], {});
    expect(await result.done).toBe(1);
    expect(result.output().stderr).toContain(
      "a webhook token is required: set BUILDKITE_WEBHOOK_TOKEN or pass --webhook-token-file",
    );
    const flag = serve(["--webhook-token", TOKEN], {});
    expect(await flag.done).toBe(2);
  });

  it("renders without submitting in --dry-run, and shuts down on request", async () => {
    const server = serve(["--dry-run"]);
    const url = await server.listening;
    const uuid = randomUUID();
    const body = webhookBody(uuid);
    const response = await fetch(`${url}/webhook`, { method: "POST", body, headers: signed(body) });
    expect(response.status).toBe(202);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await server.stop()).toBe(0);
    const { stdout, stderr } = server.output();
    expect(stdout).toContain(`"msg":"dry-run: not submitted","name":"buildkite-${uuid}"`);
    expect(stderr).toContain("shutting down");
    expect(stdout + stderr).not.toContain(TOKEN);
  });
});

describeWithCluster("ondemand-eks serve http against the local control plane", () => {
  it("turns a signed webhook into a Job once, logs one JSON line per event, and is ready", async () => {
    const server = serve(["--kubeconfig", kubeconfigPath()]);
    const url = await server.listening;
    try {
      const uuid = randomUUID();
      const body = webhookBody(uuid);
      const first = await fetch(`${url}/webhook`, { method: "POST", body, headers: signed(body) });
      expect(first.status).toBe(202);
      expect(await first.json()).toMatchObject({ outcome: "created", job: uuid });
      const again = await fetch(`${url}/webhook`, { method: "POST", body, headers: signed(body) });
      expect(await again.json()).toMatchObject({ outcome: "exists" });
      expect(await jobExists(`buildkite-${uuid}`)).toBe(true);

      const other = webhookBody(randomUUID(), ["queue=deploy"]);
      expect(
        (await fetch(`${url}/webhook`, { method: "POST", body: other, headers: signed(other) }))
          .status,
      ).toBe(200);
      const unknown = webhookBody(randomUUID(), ["queue=default", "pod=gpu"]);
      const refused = await fetch(`${url}/webhook`, {
        method: "POST",
        body: unknown,
        headers: signed(unknown),
      });
      expect(refused.status).toBe(400);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const lines = server
      .output()
      .stdout.trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.outcome)).toEqual(["created", "exists", "ignored", "invalid"]);
    for (const line of lines) {
      expect(line).toMatchObject({ msg: "webhook", durationMs: expect.any(Number) });
    }
  });

  it("answers 503 when the API server cannot be reached, so Buildkite's log shows it", async () => {
    const { readFileSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tempDir } = await import("./helpers.js");
    const config = JSON.parse(readFileSync(kubeconfigPath(), "utf8"));
    config.clusters[0].cluster.server = "https://127.0.0.1:1";
    const path = join(tempDir(), "kubeconfig");
    writeFileSync(path, JSON.stringify(config));
    const server = serve(["--kubeconfig", path, "--timeout", "1"]);
    const url = await server.listening;
    try {
      const body = webhookBody(randomUUID());
      const response = await fetch(`${url}/webhook`, {
        method: "POST",
        body,
        headers: signed(body),
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ outcome: "failed" });
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
    } finally {
      await server.stop();
    }
  });
});
