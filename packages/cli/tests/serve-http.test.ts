import { createHmac, randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { type CliIo, processIo, run } from "@ondemand-eks/cli";
import { describe, expect, it } from "vitest";
import { describeWithCluster, getJobStatus, jobExists, kubeconfigPath } from "./cluster.js";
import { tempDir } from "./helpers.js";

const TOKEN = "serve-http-test-token-0123456789abcdef";

/** Runs `ondemand-eks serve http` in-process until stop(), capturing its output. */
function serve(argv: string[], env: Record<string, string> = { BUILDKITE_WEBHOOK_TOKEN: TOKEN }) {
  let stdout = "";
  let stderr = "";
  const controller = new AbortController();
  let announce: (url: string) => void = () => {};
  const announced = new Promise<string>((resolve) => {
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
  // A server that exits before it listens fails the test at once, with what it said.
  const listening = Promise.race([
    announced,
    done.then((status) => {
      throw new Error(`serve http exited ${status} before listening: ${stderr}`);
    }),
  ]);
  // Tests of a server that must not start never await it.
  listening.catch(() => {});
  return {
    listening,
    done,
    output: () => ({ stdout, stderr }),
    /** The JSON log lines written so far. */
    lines: () =>
      stdout
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
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

/** POSTs a signed webhook; `requestId` is sent as X-Request-Id. */
function deliver(url: string, body: string, requestId?: string) {
  return fetch(`${url}/webhook`, {
    method: "POST",
    body,
    headers: { ...signed(body), ...(requestId ? { "x-request-id": requestId } : {}) },
  });
}

/** A bare connection to `url`: what it received, and when the server closed it. */
async function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  let received = "";
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString("latin1");
  });
  socket.on("error", () => {});
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
  await new Promise((resolve) => socket.once("connect", resolve));
  return { socket, closed, received: () => received };
}

describe("ondemand-eks serve http: settings", () => {
  it("needs a webhook token from the environment or a file, never a flag", async () => {
    const result = serve([], {});
    expect(await result.done).toBe(1);
    expect(result.output().stderr).toBe(
      "ondemand-eks: error: BUILDKITE_WEBHOOK_TOKEN, --webhook-token-file: required: the webhook token, in the variable or in a file (never a flag: ps shows flags)\n",
    );
    const empty = join(tempDir({ token: "\n" }), "token");
    const fromFile = serve(["--webhook-token-file", empty], {});
    expect(await fromFile.done).toBe(1);
    expect(fromFile.output().stderr).toBe(
      `ondemand-eks: error: --webhook-token-file: ${empty} is empty\n`,
    );
    const flag = serve(["--webhook-token", TOKEN], {});
    expect(await flag.done).toBe(2);
  });

  it("refuses a webhook token too short to be secret, from the variable or a file, never showing it", async () => {
    // Act
    const fromEnv = serve([], { BUILDKITE_WEBHOOK_TOKEN: "hunter2-hunter2" });
    const file = join(tempDir({ token: "0123456789abcdef\n" }), "token");
    const fromFile = serve(["--webhook-token-file", file], {});
    // Assess
    expect(await fromEnv.done).toBe(1);
    expect(fromEnv.output().stderr).toBe(
      "ondemand-eks: error: BUILDKITE_WEBHOOK_TOKEN: the token is 15 characters; at least 32 are needed to be secret (make one with: openssl rand -hex 32)\n",
    );
    expect(await fromFile.done).toBe(1);
    expect(fromFile.output().stderr).toBe(
      `ondemand-eks: error: --webhook-token-file: the token in ${file} is 16 characters; at least 32 are needed to be secret (make one with: openssl rand -hex 32)\n`,
    );
    expect(fromFile.output().stderr).not.toContain("0123456789abcdef");
  });

  it("refuses a header timeout longer than the request timeout", async () => {
    const server = serve(["--header-timeout", "20", "--request-timeout", "10"]);
    expect(await server.done).toBe(1);
    expect(server.output().stderr).toBe(
      "ondemand-eks: error: --header-timeout, --request-timeout: the header timeout (20 s) must not exceed the request timeout (10 s)\n",
    );
  });

  it("refuses an --ops-port equal to --port, and --ops-host without --ops-port", async () => {
    // Act
    const same = serve(["--port", "9000", "--ops-port", "9000"]);
    const hostOnly = serve(["--ops-host", "127.0.0.1"]);
    // Assess
    expect(await same.done).toBe(1);
    expect(same.output().stderr).toBe(
      "ondemand-eks: error: --ops-port, --port: the operations port (9000) must differ from the webhook's\n",
    );
    expect(await hostOnly.done).toBe(1);
    expect(hostOnly.output().stderr).toBe(
      "ondemand-eks: error: --ops-host: needs --ops-port: without it, the operations endpoints share the webhook's port\n",
    );
  });

  it("needs a cluster for --dry-run: the API server does the dry run", async () => {
    // Act
    const server = serve(["--dry-run", "--kubeconfig", "/nonexistent/kubeconfig"]);

    // Assess: it fails at start, before listening.
    expect(await server.done).toBe(1);
    const { stdout, stderr } = server.output();
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      /^ondemand-eks: error: cannot read kubeconfig \/nonexistent\/kubeconfig/,
    );
    expect(stderr).not.toContain("listening");
  });

  it("reports every bad setting of its environment at once, each by its variable", async () => {
    const server = serve([], {
      BUILDKITE_WEBHOOK_TOKEN: TOKEN,
      ONDEMAND_EKS_LOG_LEVEL: "loud",
      PORT: "http",
      ONDEMAND_EKS_BODY_LIMIT: "12",
    });
    expect(await server.done).toBe(1);
    expect(server.output().stderr).toBe(
      [
        "ondemand-eks: error: 3 problems:",
        '  ONDEMAND_EKS_LOG_LEVEL: expected one of debug, info, warn, error, received "loud"',
        '  PORT: expected a whole number from 0 to 65535, received "http"',
        '  ONDEMAND_EKS_BODY_LIMIT: expected a whole number of bytes from 1024 to 67108864, received "12"',
        "",
      ].join("\n"),
    );
  });
});

describeWithCluster("ondemand-eks serve http against the local control plane", () => {
  it("turns a signed webhook into a Job once, logs one JSON line per event, and is ready", async () => {
    const server = serve(["--kubeconfig", kubeconfigPath()]);
    const url = await server.listening;
    const uuid = randomUUID();
    const ids: string[] = [];
    try {
      const body = webhookBody(uuid);
      const first = await deliver(url, body, "delivery-1");
      expect(first.status, await first.clone().text()).toBe(202);
      expect(first.headers.get("x-request-id")).toBe("delivery-1");
      expect(await first.json()).toMatchObject({ outcome: "created", job: uuid });
      const again = await deliver(url, body);
      expect(await again.json()).toMatchObject({ outcome: "exists" });
      expect(await jobExists(`buildkite-${uuid}`)).toBe(true);

      const other = webhookBody(randomUUID(), ["queue=deploy"]);
      const ignored = await deliver(url, other);
      expect(ignored.status).toBe(200);
      const unknown = webhookBody(randomUUID(), ["queue=default", "pod=gpu"]);
      const refused = await deliver(url, unknown);
      expect(refused.status).toBe(400);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      // Without X-Request-Id, the answer carries a new one, and so does the log line.
      for (const response of [again, ignored, refused]) {
        ids.push(response.headers.get("x-request-id") ?? "");
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const lines = server.lines();
    expect(lines.map((line) => line.outcome)).toEqual(["created", "exists", "ignored", "invalid"]);
    expect(lines.map((line) => line.level)).toEqual(["info", "info", "info", "warn"]);
    for (const line of lines) {
      expect(line).toMatchObject({
        time: expect.any(String),
        msg: "event",
        requestId: expect.any(String),
        durationMs: expect.any(Number),
      });
      expect(Object.keys(line).slice(0, 3)).toEqual(["time", "level", "msg"]);
    }
    expect(lines.map((line) => line.requestId)).toEqual(["delivery-1", ...ids]);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines[0]).toMatchObject({
      job: uuid,
      name: `buildkite-${uuid}`,
      namespace: "buildkite",
    });
    expect(server.output().stdout).not.toContain(TOKEN);
  });

  it("with --ops-port, serves /webhook on --port and /healthz, /readyz, /metrics only on --ops-port", async () => {
    // Prepare
    const server = serve(["--kubeconfig", kubeconfigPath(), "--ops-port", "0"]);
    const url = await server.listening;
    const opsUrl = /health and metrics on (\S+)/.exec(server.output().stderr)?.[1] ?? "";
    const uuid = randomUUID();
    try {
      // Act
      const delivered = await deliver(url, webhookBody(uuid));
      const onWebhookPort = await Promise.all(
        ["/healthz", "/readyz", "/metrics"].map((path) => fetch(`${url}${path}`)),
      );
      const onOpsPort = await deliver(opsUrl, webhookBody(randomUUID()));
      // The load balancers' health check (deploy/kubernetes/webhook-exposure) asks this.
      const healthCheck = await fetch(`${url}/webhook`);
      // Assess
      expect(opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(opsUrl).not.toBe(url);
      expect(delivered.status).toBe(202);
      expect(onWebhookPort.map((response) => response.status)).toEqual([404, 404, 404]);
      expect(onOpsPort.status).toBe(404);
      expect(healthCheck.status).toBe(405);
      expect((await fetch(`${opsUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${opsUrl}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${opsUrl}/metrics`)).text();
      expect(metrics).toMatch(/^ondemand_eks_events_total\{outcome="created"\} 1$/m);
      expect(metrics).toMatch(/^ondemand_eks_http_refused_total\{reason="unauthorized"\} 0$/m);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(await jobExists(`buildkite-${uuid}`)).toBe(true);
  });

  it("dry-runs with --dry-run: answers dry-run (never created), stores nothing, counts dry-run", async () => {
    // Prepare
    const server = serve(["--kubeconfig", kubeconfigPath(), "--dry-run"]);
    const url = await server.listening;
    const uuid = randomUUID();
    let metrics = "";
    try {
      // Act
      const response = await deliver(url, webhookBody(uuid));

      // Assess
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({
        outcome: "dry-run",
        result: "created",
        job: uuid,
        name: `buildkite-${uuid}`,
        namespace: "buildkite",
        queue: "default",
        podDefinition: "node-postgres",
        attempts: 1,
      });
      expect(await getJobStatus(`buildkite-${uuid}`)).toBe(404);
      metrics = await (await fetch(`${url}/metrics`)).text();
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(metrics).toMatch(/^ondemand_eks_events_total\{outcome="dry-run"\} 1$/m);
    expect(metrics).not.toMatch(/^ondemand_eks_events_total\{outcome="created"\}/m);
    expect(server.lines()).toEqual([
      expect.objectContaining({ msg: "event", outcome: "dry-run", result: "created", job: uuid }),
    ]);
    expect(server.output().stderr).toContain(
      "dry run: the API server validates each Job, nothing is stored",
    );
  });

  it("writes only warnings and errors with ONDEMAND_EKS_LOG_LEVEL=warn", async () => {
    // Prepare
    const server = serve(["--kubeconfig", kubeconfigPath()], {
      BUILDKITE_WEBHOOK_TOKEN: TOKEN,
      ONDEMAND_EKS_LOG_LEVEL: "warn",
    });
    const url = await server.listening;
    const uuid = randomUUID();
    try {
      // Act: a Job created (info), then an unknown pod definition (warn).
      expect((await deliver(url, webhookBody(uuid))).status).toBe(202);
      const unknown = webhookBody(randomUUID(), ["queue=default", "pod=gpu"]);
      expect((await deliver(url, unknown)).status).toBe(400);
    } finally {
      expect(await server.stop()).toBe(0);
    }

    // Assess
    expect(await jobExists(`buildkite-${uuid}`)).toBe(true);
    expect(server.lines()).toEqual([
      expect.objectContaining({ level: "warn", msg: "event", outcome: "invalid" }),
    ]);
  });

  it("holds its connections and header deadline to --max-connections and --header-timeout", async () => {
    // Prepare
    const server = serve([
      "--kubeconfig",
      kubeconfigPath(),
      "--max-connections",
      "1",
      "--header-timeout",
      "1",
      "--request-timeout",
      "2",
    ]);
    const url = await server.listening;
    try {
      const started = Date.now();
      const idle = await rawConnection(url);
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Act
      const second = await rawConnection(url);
      // Assess: the second is answered 503 unread; the idle one cut off at its deadline.
      await second.closed;
      expect(second.received()).toMatch(/^HTTP\/1\.1 503 .*\r\nRetry-After: 1\r\n/s);
      const idleClosed = await idle.closed;
      expect(idleClosed - started).toBeLessThan(2_500);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^ondemand_eks_http_refused_total\{reason="connections"\} 1$/m);
      expect(metrics).toMatch(/^ondemand_eks_http_refused_total\{reason="timeout"\} 1$/m);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("gives a stalled body's slot (--max-bodies-in-flight) to a real webhook, and refuses a body over --body-limit unread", async () => {
    // Prepare: a request whose signature header passes, its body half sent, holds the one
    // slot (503 beyond the slots, when no body is stalled, is the adapter's own test).
    const server = serve([
      "--kubeconfig",
      kubeconfigPath(),
      "--max-bodies-in-flight",
      "1",
      "--body-limit",
      "2048",
    ]);
    const url = await server.listening;
    const forged = `timestamp=${Math.floor(Date.now() / 1000)},signature=${"ab".repeat(32)}`;
    const head = (length: number) =>
      `POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-length: ${length}\r\nx-buildkite-signature: ${forged}\r\n\r\n`;
    try {
      const holder = await rawConnection(url);
      holder.socket.write(`${head(1_000)}{"event":`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Act
      const real = await deliver(url, webhookBody(randomUUID()));
      const large = await rawConnection(url);
      large.socket.write(head(4_096));
      await Promise.all([holder.closed, large.closed]);
      // Assess
      expect(real.status).toBe(202);
      expect(large.received()).toMatch(/^HTTP\/1\.1 413 /);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("answers 503 when the API server cannot be reached, so Buildkite's log shows it", async () => {
    const config = JSON.parse(readFileSync(kubeconfigPath(), "utf8"));
    config.clusters[0].cluster.server = "https://127.0.0.1:1";
    const path = join(tempDir(), "kubeconfig");
    writeFileSync(path, JSON.stringify(config));
    const server = serve(["--kubeconfig", path, "--timeout", "1"]);
    const url = await server.listening;
    try {
      const response = await deliver(url, webhookBody(randomUUID()));
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ outcome: "failed" });
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
    } finally {
      await server.stop();
    }
    expect(server.lines()).toEqual([
      expect.objectContaining({ level: "error", msg: "event", outcome: "failed" }),
    ]);
  });
});
