import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterAuth, SubmitterOptions } from "@ondemand-eks/submitter";
import { Submitter } from "@ondemand-eks/submitter";
import { createPki, type Pki } from "@ondemand-eks/testenv";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { manifestFor } from "./helpers/cluster.js";

/**
 * How the submitter treats each kind of answer. The real API server cannot be made to
 * answer 429 or 503 on demand, so this HTTPS server plays one: it answers from a script,
 * one response per request, with Kubernetes Status bodies.
 */
interface Scripted {
  status: number;
  reason?: string;
  headers?: Record<string, string>;
  /** For 2xx: the body to send instead of the request's own object (with a uid). */
  body?: unknown;
  /** Text to send as the body, as is. */
  raw?: string;
  /** Send this many bytes of a longer body, then close the connection. */
  cutAfter?: number;
}

let pki: Pki;
let dir: string;
let server: Server;
let script: Scripted[] = [];
/** When set, answers every request instead of the script (for "forever" answers). */
let respond: ((method: string) => Scripted) | undefined;
let requests: { method: string; url: string; authorization?: string }[] = [];
let connections = 0;
/**
 * Each test's submitters mark their requests with it, and the server answers (and
 * counts) only the current test's: a request an earlier test cancelled can still reach
 * the server late, and must not take this test's scripted answers.
 */
let testRun = 0;

function status(code: number, reason: string, message: string) {
  return JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    code,
    reason,
    message,
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ondemand-eks-retry-"));
  pki = await createPki(dir);
  server = createServer({
    cert: await readFile(pki.servingCert),
    key: await readFile(pki.servingKey),
  });
  server.on("secureConnection", () => {
    connections += 1;
  });
  server.on("request", (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.headers["x-test-run"] !== String(testRun)) {
        response.writeHead(503).end();
        return;
      }
      requests.push({
        method: request.method ?? "",
        url: request.url ?? "",
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
      });
      // Past the script: keep failing, the same way as its last entry would.
      const next = respond?.(request.method ?? "") ??
        script.shift() ?? { status: 503, reason: "ServiceUnavailable" };
      if (next.cutAfter !== undefined) {
        response.writeHead(next.status, { "content-length": String(next.cutAfter * 2) });
        response.write("x".repeat(next.cutAfter), () => response.socket?.destroy());
        return;
      }
      response.writeHead(next.status, { "content-type": "application/json", ...next.headers });
      if (next.raw !== undefined) {
        response.end(next.raw);
      } else if (next.body !== undefined) {
        response.end(JSON.stringify(next.body));
      } else if (next.status === 201 || next.status === 200) {
        const body = JSON.parse(Buffer.concat(chunks).toString() || "{}");
        response.end(JSON.stringify({ ...body, metadata: { ...body.metadata, uid: "uid-1" } }));
      } else {
        response.end(status(next.status, next.reason ?? "", `scripted ${next.status}`));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  testRun += 1;
  script = [];
  respond = undefined;
  requests = [];
  connections = 0;
});

async function submitter(
  options: Omit<Partial<SubmitterOptions>, "auth"> & { auth?: Partial<ClusterAuth> } = {},
) {
  const { port } = server.address() as AddressInfo;
  const auth: ClusterAuth = {
    server: `https://127.0.0.1:${port}`,
    tls: { ca: await readFile(pki.caCert) },
    description: "a test token",
    headers: async () => ({ Authorization: "Bearer test-token" }),
    ...options.auth,
  };
  const run = String(testRun);
  const headers = auth.headers.bind(auth);
  auth.headers = async () => ({ ...(await headers()), "x-test-run": run });
  // No jitter wait: the tests count requests, they do not time them.
  return new Submitter({ random: () => 0, timeoutMs: 20_000, ...options, auth });
}

const manifest = () => manifestFor("0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70");

describe("retries", () => {
  it("retries 429, 500, 502, 503 and 504, then succeeds", async () => {
    script = [
      { status: 429, reason: "TooManyRequests", headers: { "retry-after": "0" } },
      { status: 500, reason: "InternalError" },
      { status: 502 },
      { status: 503, reason: "ServiceUnavailable" },
      { status: 504, reason: "Timeout" },
      { status: 201 },
    ];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "created", attempts: 6, uid: "uid-1" });
    expect(requests.map((request) => request.method)).toEqual(Array(6).fill("POST"));
    expect(requests[0]?.url).toBe(
      "/apis/batch/v1/namespaces/buildkite/jobs?fieldManager=ondemand-eks&fieldValidation=Strict",
    );
  });

  it.each([
    [400, "BadRequest"],
    [403, "Forbidden"],
    [404, "NotFound"],
    [405, "MethodNotAllowed"],
    [409, "Conflict"],
    [413, "RequestEntityTooLarge"],
    [422, "Invalid"],
  ])("does not retry %i %s: rejected with the server's message", async (code, reason) => {
    script = [{ status: code, reason }, { status: 201 }];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({
      outcome: "rejected",
      status: code,
      reason,
      message: `scripted ${code}`,
      attempts: 1,
    });
    expect(requests).toHaveLength(1);
  });

  it("retries an answer cut off by a closed connection", async () => {
    script = [{ status: 201, cutAfter: 100 }, { status: 201 }];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "created", attempts: 2, uid: "uid-1" });
  });

  it("gives up as unavailable when a Retry-After reaches past the deadline", async () => {
    script = [{ status: 429, reason: "TooManyRequests", headers: { "retry-after": "60" } }];
    const s = await submitter({ timeoutMs: 5_000 });
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "unavailable", attempts: 1 });
    if (result.outcome === "unavailable")
      expect(result.message).toContain("HTTP 429 TooManyRequests");
  });

  it("keeps answering 5xx until the deadline: unavailable, with the last problem", async () => {
    script = [];
    // Waits at their cap (10, 20, 40, 50, 50... ms), so the loop is not a busy one.
    const s = await submitter({
      timeoutMs: 1_000,
      maxAttempts: 1_000,
      random: () => 1,
      retry: { initialDelayMs: 10, maxDelayMs: 50 },
    });
    const result = await s.submit(await manifest(), {});
    s.close();
    expect(result.outcome).toBe("unavailable");
    expect(result.attempts).toBeGreaterThan(1);
    if (result.outcome === "unavailable") {
      expect(result.message).toBe(
        "no success within 1000 ms: HTTP 503 ServiceUnavailable: scripted 503",
      );
    }
  });

  it("after a 401, retries once when the auth found new credentials", async () => {
    script = [{ status: 401 }, { status: 201 }];
    let token = "old";
    const s = await submitter({
      auth: {
        headers: async () => ({ Authorization: `Bearer ${token}` }),
        refresh: async () => {
          token = "new";
          return true;
        },
      },
    });
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "created", attempts: 2 });
    expect(requests.map((request) => request.authorization)).toEqual(["Bearer old", "Bearer new"]);
  });

  it("after a 401 with nothing new to try, is rejected naming where credentials came from", async () => {
    script = [{ status: 401 }, { status: 401 }, { status: 201 }];
    const s = await submitter({ auth: { refresh: async () => false } });
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "rejected", status: 401, attempts: 1 });
    if (result.outcome === "rejected") {
      expect(result.message).toContain("a test token");
      expect(result.message).not.toContain("test-token");
    }
  });

  it("stops when the caller cancels", async () => {
    script = [];
    const s = await submitter({ random: () => 1, retry: { initialDelayMs: 10, maxDelayMs: 10 } });
    const controller = new AbortController();
    const pending = s.submit(await manifest(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const result = await pending;
    s.close();
    expect(result.outcome).toBe("unavailable");
    if (result.outcome === "unavailable")
      expect(result.message).toContain("cancelled by the caller");
  });

  it("reuses one keep-alive connection across submissions", async () => {
    script = Array(20).fill({ status: 201 });
    const s = await submitter();
    for (let i = 0; i < 20; i++) expect((await s.submit(await manifest())).outcome).toBe("created");
    s.close();
    expect(requests).toHaveLength(20);
    expect(connections).toBe(1);
  });

  it("does not retry a server it cannot trust: unavailable after one attempt", async () => {
    script = [{ status: 201 }];
    const s = await submitter({ auth: { tls: {} } });
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "unavailable", attempts: 1 });
    expect(requests).toHaveLength(0);
  });
});

describe("after AlreadyExists", () => {
  const uuid = "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70";
  const stored = (jobUuid: string) => ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: `buildkite-${uuid}`,
      uid: "uid-9",
      labels: {
        "app.kubernetes.io/managed-by": "ondemand-eks",
        "buildkite.com/job-uuid": jobUuid,
      },
    },
  });

  it("reads the Job and calls it exists when it carries this job's UUID", async () => {
    script = [
      { status: 409, reason: "AlreadyExists" },
      { status: 200, body: stored(uuid) },
    ];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "exists", uid: "uid-9", attempts: 1 });
    expect(requests.map((request) => request.method)).toEqual(["POST", "GET"]);
    expect(requests[1]?.url).toBe(`/apis/batch/v1/namespaces/buildkite/jobs/buildkite-${uuid}`);
  });

  it("creates again when the name was freed in between (404 on the read)", async () => {
    script = [
      { status: 409, reason: "AlreadyExists" },
      { status: 404, reason: "NotFound" },
      { status: 201 },
    ];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "created", attempts: 2 });
    expect(requests.map((request) => request.method)).toEqual(["POST", "GET", "POST"]);
  });

  it("backs off and gives up within the attempt budget when every read answers 404", async () => {
    // Prepare: a webhook or proxy that answers every create 409 and every read 404. Each
    // wait is at its cap (10 ms, then 20 ms), so 19 waits take at least 370 ms.
    respond = (method) =>
      method === "POST"
        ? { status: 409, reason: "AlreadyExists" }
        : { status: 404, reason: "NotFound" };
    const s = await submitter({
      timeoutMs: 5_000,
      random: () => 1,
      retry: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    const started = Date.now();

    // Act
    const result = await s.submit(await manifest());
    const elapsed = Date.now() - started;
    s.close();

    // Assess: 20 creates (the default budget), each followed by its read, then a
    // retryable failure that says what happened; never a busy loop until the deadline.
    expect(result).toMatchObject({ outcome: "unavailable", attempts: 20 });
    expect(requests).toHaveLength(40);
    expect(requests.map((request) => request.method)).toEqual(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? "POST" : "GET")),
    );
    expect(elapsed).toBeGreaterThanOrEqual(370);
    expect(elapsed).toBeLessThan(5_000);
    if (result.outcome === "unavailable") {
      expect(result.message).toContain("no success in 20 attempts");
      expect(result.message).toContain("404 NotFound");
    }
  });

  it("keeps answering 5xx: unavailable once the attempt budget is spent, before the deadline", async () => {
    const s = await submitter({ timeoutMs: 5_000, maxAttempts: 4 });
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({
      outcome: "unavailable",
      attempts: 4,
      message: "no success in 4 attempts: HTTP 503 ServiceUnavailable: scripted 503",
    });
    expect(requests).toHaveLength(4);
  });

  it("counts the creates after a 404 read against maxAttempts, even with no wait drawn", async () => {
    respond = (method) =>
      method === "POST"
        ? { status: 409, reason: "AlreadyExists" }
        : { status: 404, reason: "NotFound" };
    const s = await submitter({ timeoutMs: 5_000, maxAttempts: 3 });
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "unavailable", attempts: 3 });
    expect(requests).toHaveLength(6);
  });

  it("is rejected, naming the other manager, when the Job is not managed by ondemand-eks", async () => {
    const theirs = stored(uuid);
    theirs.metadata.labels["app.kubernetes.io/managed-by"] = "agent-stack-k8s";
    script = [
      { status: 409, reason: "AlreadyExists" },
      { status: 200, body: theirs },
    ];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "rejected", status: 409, reason: "AlreadyExists" });
    if (result.outcome === "rejected") expect(result.message).toContain('"agent-stack-k8s"');
  });

  it("is rejected, not taken for ours, when it may not read the Job (403)", async () => {
    script = [
      { status: 409, reason: "AlreadyExists" },
      { status: 403, reason: "Forbidden" },
    ];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "rejected", status: 403 });
    if (result.outcome === "rejected") expect(result.message).toContain("may not get jobs");
  });

  it("is rejected when the Job under that name belongs to another Buildkite job", async () => {
    script = [
      { status: 409, reason: "AlreadyExists" },
      { status: 200, body: stored("someone-else") },
    ];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "rejected", status: 409, reason: "AlreadyExists" });
  });
});

describe("what the submitter never does", () => {
  it("never reports created for an answer without our object (a redirect, a proxy page)", async () => {
    script = [{ status: 200, body: { kind: "JobList", items: [] } }];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "unavailable", attempts: 1 });
  });

  it("follows no redirect: a 3xx is the answer, rejected after one request", async () => {
    script = [{ status: 307, headers: { location: "/somewhere-else" } }];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "rejected", status: 307, attempts: 1 });
    expect(requests).toHaveLength(1);
  });

  it("never reports created for a 2xx that is not JSON", async () => {
    script = [{ status: 201, raw: "<html>a proxy's page</html>" }];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "unavailable", attempts: 1 });
  });

  it("never reads an answer past 16 MiB: unavailable, saying why", async () => {
    script = [{ status: 201, raw: `"${"x".repeat(16 * 1024 * 1024)}"` }];
    const s = await submitter();
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "unavailable", attempts: 1 });
    expect(result.outcome === "unavailable" && result.message).toMatch(/larger than 16777216/);
  });

  it("never calls ready a 200 that is not an API server's version", async () => {
    script = [{ status: 200, raw: "<html>a proxy's page</html>" }];
    const s = await submitter();
    expect(await s.ping()).toBe(false);
    script = [{ status: 200, body: { gitVersion: "v1.36.3", major: "1", minor: "36" } }];
    expect(await s.ping()).toBe(true);
    s.close();
  });

  it("never waits past the deadline for credentials that do not come", async () => {
    const s = await submitter({
      timeoutMs: 300,
      attemptTimeoutMs: 100,
      auth: { headers: () => new Promise<Record<string, string>>(() => {}) },
    });
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({
      outcome: "unavailable",
      message: "no success within 300 ms: request timed out",
    });
    expect(requests).toHaveLength(0);
  });

  it("reports the failure before an attempt the deadline cut short, not that attempt's timeout", async () => {
    // Prepare: a 503, then credentials that never come, until the deadline.
    script = [{ status: 503, reason: "ServiceUnavailable" }];
    let calls = 0;
    const s = await submitter({
      timeoutMs: 500,
      auth: {
        headers: () => {
          calls += 1;
          return calls === 1 ? Promise.resolve({}) : new Promise<Record<string, string>>(() => {});
        },
      },
    });

    // Act
    const result = await s.submit(await manifest());
    s.close();

    // Assess
    expect(result).toMatchObject({
      outcome: "unavailable",
      attempts: 2,
      message: "no success within 500 ms: HTTP 503 ServiceUnavailable: scripted 503",
    });
  });

  it("never throws when refreshing credentials fails: rejected 401", async () => {
    script = [{ status: 401 }];
    const s = await submitter({
      auth: {
        refresh: async () => {
          throw new Error("token file vanished");
        },
      },
    });
    const result = await s.submit(await manifest());
    s.close();
    expect(result).toMatchObject({ outcome: "rejected", status: 401 });
  });

  it("refuses settings that would make it spin or never end", async () => {
    await expect(submitter({ timeoutMs: Number.NaN })).rejects.toThrow(
      "timeoutMs: expected a positive number of milliseconds, received NaN",
    );
    await expect(submitter({ retry: { initialDelayMs: 0 } })).rejects.toThrow(
      "retry.initialDelayMs",
    );
    await expect(submitter({ retry: { multiplier: 0.5 } })).rejects.toThrow("retry.multiplier");
    await expect(submitter({ maxAttempts: 0 })).rejects.toThrow("maxAttempts");
    const s = await submitter();
    await expect(s.submit(await manifest(), { timeoutMs: -1 })).rejects.toThrow(RangeError);
    s.close();
  });
});
