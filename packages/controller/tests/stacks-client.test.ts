import { type BuildkiteEmulator, startBuildkiteEmulator } from "@ondemand-eks/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StacksApiError, StacksClient, type StacksClientOptions } from "../src/index.js";

const AGENT_TOKEN = "emulated-agent-token";
const CLUSTER_TOKEN = "emulated-cluster-token-s3cr3t";

/** What the client did besides HTTP: the waits it asked for and each attempt's status. */
interface Recorder {
  readonly sleeps: number[];
  readonly attempts: { call: string; status: number | "error" }[];
}

describe("StacksClient against the Buildkite emulator", () => {
  let buildkite: BuildkiteEmulator;
  let sequence = 0;

  beforeAll(async () => {
    buildkite = await startBuildkiteEmulator({
      agentToken: AGENT_TOKEN,
      clusterToken: CLUSTER_TOKEN,
      organizationSlug: "acme",
    });
  });
  afterAll(async () => {
    await buildkite?.close();
  });

  /** A stack key and queue of the test's own, registered unless `register` is false. */
  async function isolated(client: StacksClient, register = true) {
    sequence += 1;
    const names = { key: `stack-${sequence}`, queue: `queue-${sequence}` };
    if (register) await client.register({ key: names.key, queueKey: names.queue });
    return names;
  }

  /** A client of the emulator whose waits are recorded and take no time. */
  function clientOf(options: Partial<StacksClientOptions> = {}): [StacksClient, Recorder] {
    const recorder: Recorder = { sleeps: [], attempts: [] };
    const client = new StacksClient({
      endpoint: buildkite.url,
      token: CLUSTER_TOKEN,
      random: () => 0.5,
      sleep: async (ms) => void recorder.sleeps.push(ms),
      onRequest: (call, status) => void recorder.attempts.push({ call, status }),
      ...options,
    });
    return [client, recorder];
  }

  /** The emulator's requests from now on, as `METHOD path` without the query. */
  function requestsFromNow(): () => string[] {
    const start = buildkite.requests().length;
    return () =>
      buildkite
        .requests()
        .slice(start)
        .map((request) => request.event.replace(/\?.*$/, ""));
  }

  /** The error `promise` rejects with, which must be a StacksApiError. */
  async function failure(promise: Promise<unknown>): Promise<StacksApiError> {
    const error = await promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(StacksApiError);
    return error as StacksApiError;
  }

  it("tells who the token is, registers a stack, and deregisters it", async () => {
    // Prepare
    const [client] = clientOf();
    const requests = requestsFromNow();

    // Act
    const identity = await client.whoami();
    const { key, queue } = await isolated(client);
    const listed = await client.scheduledJobs(key, queue);
    await client.deregister(key);

    // Assess
    expect(identity).toMatchObject({ organizationSlug: "acme", clusterName: "Emulated cluster" });
    expect(identity.clusterUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(listed).toEqual({ paused: false, jobs: [] });
    expect(requests()).toEqual([
      "GET /v3/token",
      "POST /v3/stacks/register",
      `GET /v3/stacks/${key}/scheduled-jobs`,
      `POST /v3/stacks/${key}/deregister`,
    ]);
  });

  it("says `rejected` (404, not retried) for a stack that was never registered", async () => {
    // Prepare
    const [client, recorder] = clientOf();

    // Act
    const error = await failure(client.scheduledJobs("never-registered", "linux"));

    // Assess
    expect(error).toMatchObject({ kind: "rejected", status: 404, call: "scheduledJobs" });
    expect(error.message).toMatch(/^scheduledJobs: .*register/);
    expect(recorder.attempts).toEqual([{ call: "scheduledJobs", status: 404 }]);
  });

  it("follows every page of 120 jobs, 50 at a time, in priority order", async () => {
    // Prepare
    const [client] = clientOf();
    const { key, queue } = await isolated(client);
    const created = Array.from({ length: 120 }, (_, index) => ({
      id: buildkite.createJob({ command: "true", queue, priority: index % 3 }),
      priority: index % 3,
      index,
    }));
    const expected = [...created]
      .sort((a, b) => b.priority - a.priority || a.index - b.index)
      .map((job) => job.id);
    const requests = requestsFromNow();

    // Act
    const listed = await client.scheduledJobs(key, queue, { pageSize: 50 });

    // Assess
    expect(requests()).toEqual(Array(3).fill(`GET /v3/stacks/${key}/scheduled-jobs`));
    expect(listed.paused).toBe(false);
    expect(listed.jobs.map((job) => job.uuid)).toEqual(expected);
    expect(listed.jobs[0]?.priority).toBe(2);
    expect(listed.jobs[0]?.raw).toMatchObject({
      id: expected[0],
      agent_query_rules: [`queue=${queue}`],
      build: { branch: "main" },
    });
  });

  it("lists a paused queue's jobs and says it is paused", async () => {
    // Prepare
    const [client] = clientOf();
    const { key, queue } = await isolated(client);
    const id = buildkite.createJob({ command: "true", queue });
    buildkite.pauseQueue(queue, true);

    // Act
    const paused = await client.scheduledJobs(key, queue);
    buildkite.pauseQueue(queue, false);
    const resumed = await client.scheduledJobs(key, queue);

    // Assess
    expect(paused.paused).toBe(true);
    expect(paused.jobs.map((job) => job.uuid)).toEqual([id]);
    expect(resumed.paused).toBe(false);
  });

  it("reserves jobs once, and says which it could not reserve", async () => {
    // Prepare
    const [client] = clientOf();
    const { key, queue } = await isolated(client);
    const ids = [1, 2].map(() => buildkite.createJob({ command: "true", queue }));
    const elsewhere = buildkite.createJob({ command: "true", queue: "not-this-stacks" });

    // Act
    const first = await client.reserve(key, [...ids, elsewhere], 60);
    const second = await client.reserve(key, ids);
    const none = await client.reserve(key, []);

    // Assess
    expect(first).toEqual({ reserved: ids, notReserved: [elsewhere] });
    expect(second).toEqual({ reserved: [], notReserved: ids });
    expect(none).toEqual({ reserved: [], notReserved: [] });
    expect(buildkite.job(ids[0] ?? "").state).toBe("reserved");
  });

  it("reads the states of 101 jobs in two requests; unknown jobs are absent", async () => {
    // Prepare
    const [client] = clientOf();
    const { key, queue } = await isolated(client);
    const ids = Array.from({ length: 101 }, () => buildkite.createJob({ command: "true", queue }));
    buildkite.cancel(ids[100] ?? "");
    const unknown = "00000000-0000-4000-8000-000000000000";
    const requests = requestsFromNow();

    // Act
    const states = await client.states(key, [...ids, unknown]);

    // Assess
    expect(requests()).toEqual(Array(2).fill(`POST /v3/stacks/${key}/jobs/get-states`));
    expect(states.size).toBe(101);
    expect(states.get(ids[0] ?? "")).toBe("scheduled");
    expect(states.get(ids[100] ?? "")).toBe("canceled");
    expect(states.has(unknown)).toBe(false);
  });

  it("finishes a job with a cropped detail, then says it is already finished", async () => {
    // Prepare
    const [client] = clientOf();
    const { key, queue } = await isolated(client);
    const id = buildkite.createJob({ command: "true", queue });
    const detail = `ImagePullBackOff: ${"x".repeat(5000)}`;

    // Act
    const first = await client.finish(key, id, { exitStatus: -1, detail });
    const second = await client.finish(key, id, { exitStatus: -1, detail: "again" });

    // Assess
    expect(first).toBe("finished");
    expect(second).toBe("already-finished");
    const view = buildkite.job(id);
    expect(view).toMatchObject({ state: "finished", exitStatus: -1 });
    const recorded = view.timeline.find((entry) => entry.event === `stack error from ${key}`);
    expect(recorded?.detail?.startsWith("ImagePullBackOff: xxx")).toBe(true);
    expect(recorded?.detail?.endsWith("… (cropped)")).toBe(true);
    expect(Buffer.byteLength(recorded?.detail ?? "")).toBeLessThanOrEqual(4096);
  });

  it("refuses to finish a job an agent holds, and says to notify instead", async () => {
    // Prepare
    const [client] = clientOf();
    const { key, queue } = await isolated(client);
    const id = buildkite.createJob({ command: "true", queue });
    const agent = await fetch(`${buildkite.url}/register`, {
      method: "POST",
      headers: { authorization: `Token ${AGENT_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "holder", meta_data: [`queue=${queue}`] }),
    }).then((response) => response.json() as Promise<{ access_token: string }>);
    const asAgent = { authorization: `Token ${agent.access_token}` };
    await fetch(`${buildkite.url}/connect`, { method: "POST", headers: asAgent });
    await fetch(`${buildkite.url}/jobs/${id}/acquire`, { method: "PUT", headers: asAgent });

    // Act
    const error = await failure(client.finish(key, id, { exitStatus: -1, detail: "too late" }));

    // Assess
    expect(error).toMatchObject({ kind: "rejected", status: 422, call: "finish" });
    expect(error.message).toMatch(/an agent holds it, so send a notification instead/);
    expect(buildkite.job(id).state).not.toBe("finished");
  });

  it("adds notifications to job timelines, and ignores the ones for unknown jobs", async () => {
    // Prepare
    const [client] = clientOf();
    const { key, queue } = await isolated(client);
    const id = buildkite.createJob({ command: "true", queue });
    const at = new Date("2026-08-21T10:00:01.250Z");

    // Act
    await client.notify(key, [
      { uuid: id, detail: "waiting for a node", at },
      { uuid: "00000000-0000-4000-8000-000000000000", detail: "lost" },
    ]);

    // Assess
    expect(buildkite.job(id).timeline).toContainEqual({
      at: at.toISOString(),
      event: `notification from ${key}`,
      detail: "waiting for a node",
    });
  });

  it("says `unauthorized` for a wrong token, at once and without the token", async () => {
    // Prepare
    const wrongToken = "wrong-token-do-not-print";
    const [client, recorder] = clientOf({ token: wrongToken });

    // Act
    const error = await failure(client.whoami());

    // Assess
    expect(error).toMatchObject({ kind: "unauthorized", status: 401, call: "whoami" });
    expect(error.message).toContain(
      "Buildkite refused the cluster token (401): check BUILDKITE_CLUSTER_TOKEN is a cluster agent token",
    );
    expect(error.message).not.toContain(wrongToken);
    expect(JSON.stringify(error)).not.toContain(wrongToken);
    expect(recorder.attempts).toHaveLength(1);
  });

  it("waits as Retry-After asks after 429s, then succeeds", async () => {
    // Prepare
    const [client, recorder] = clientOf();
    buildkite.throttle(2, 1);
    const requests = requestsFromNow();

    // Act
    const identity = await client.whoami();

    // Assess
    expect(identity.organizationSlug).toBe("acme");
    expect(requests()).toEqual([
      "GET /v3/token (throttled)",
      "GET /v3/token (throttled)",
      "GET /v3/token",
    ]);
    expect(recorder.attempts.map((attempt) => attempt.status)).toEqual([429, 429, 200]);
    expect(recorder.sleeps).toHaveLength(2);
    for (const wait of recorder.sleeps) expect(wait).toBeGreaterThanOrEqual(1000);
  });

  it("gives up at once when Retry-After is beyond the deadline, saying when to come back", async () => {
    // Prepare
    const [client, recorder] = clientOf({ timeoutMs: 10_000 });
    buildkite.throttle(1, 60);

    // Act
    const error = await failure(client.whoami());

    // Assess
    expect(error).toMatchObject({ kind: "unavailable", status: 429, call: "whoami" });
    expect(error.message).toMatch(/asked to come back in 60 s \(at \d{4}-.*Z\)/);
    expect(recorder.attempts).toHaveLength(1);
    expect(recorder.sleeps).toEqual([]);
  });

  it("retries 5xx's with backoff, then succeeds", async () => {
    // Prepare
    const [client, recorder] = clientOf();
    const { key, queue } = await isolated(client);
    buildkite.failStacks(2, 503);

    // Act
    const listed = await client.scheduledJobs(key, queue);

    // Assess
    expect(listed.jobs).toEqual([]);
    expect(recorder.attempts.slice(1).map((attempt) => attempt.status)).toEqual([503, 503, 200]);
    expect(recorder.sleeps).toHaveLength(2);
  });

  it("says `unavailable` when 5xx's last beyond the deadline", async () => {
    // Prepare: a clock that only the client's waits move.
    let clock = 0;
    const [client, recorder] = clientOf({
      timeoutMs: 2_000,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    buildkite.failStacks(1000, 502);

    // Act
    const error = await failure(client.whoami());
    buildkite.failStacks(0, 502);

    // Assess
    expect(error).toMatchObject({ kind: "unavailable", status: 502, call: "whoami" });
    expect(error.message).toMatch(
      /no usable answer within 2000 ms \(\d+ attempts; last: HTTP 502\)/,
    );
    expect(recorder.attempts.length).toBeGreaterThan(2);
    expect(recorder.attempts.every((attempt) => attempt.status === 502)).toBe(true);
    expect(clock).toBeLessThanOrEqual(2_000);
  });

  it("says `unavailable` when Buildkite answers too slowly", async () => {
    // Prepare
    const [client, recorder] = clientOf({ timeoutMs: 400, attemptTimeoutMs: 100 });
    buildkite.stallStacks(100, 5_000);

    // Act
    const error = await failure(client.whoami());
    buildkite.stallStacks(0, 0);

    // Assess
    expect(error).toMatchObject({ kind: "unavailable", call: "whoami" });
    expect(error.status).toBeUndefined();
    expect(error.message).toMatch(/no usable answer within 400 ms .*last: the attempt timed out/);
    expect(recorder.attempts.length).toBeGreaterThan(0);
    expect(recorder.attempts.every((attempt) => attempt.status === "error")).toBe(true);
  });
});
