import { type BuildkiteEmulator, startBuildkiteEmulator } from "@ondemand-eks/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const AGENT_TOKEN = "emulated-agent-token";
const MILLISECOND_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A JSON request; answers status and JSON. */
async function request(url: string, method = "GET", body?: unknown, token?: string) {
  const response = await fetch(url, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Token ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe("the Buildkite emulator's control API over HTTP", () => {
  let buildkite: BuildkiteEmulator;

  beforeAll(async () => {
    buildkite = await startBuildkiteEmulator({ agentToken: AGENT_TOKEN });
  });
  afterAll(async () => {
    await buildkite?.close();
  });

  it("creates a job with its routing and build facts, and reads it back", async () => {
    // Act
    const created = await request(`${buildkite.controlUrl}/jobs`, "POST", {
      command: "npm test",
      queue: "linux",
      agentQueryRules: ["pod=node-*"],
      priority: 3,
      label: ":node: test",
      pipelineSlug: "app",
      organizationSlug: "acme",
      env: { BUILDKITE_BRANCH: "feature" },
    });
    const id = String(created.json.id);
    const read = await request(`${buildkite.controlUrl}/jobs/${id}`);

    // Assess
    expect(created.status).toBe(201);
    expect(read.json).toMatchObject({
      id,
      state: "scheduled",
      agentQueryRules: ["queue=linux", "pod=node-*"],
      queue: "linux",
      priority: 3,
      env: {
        BUILDKITE_COMMAND: "npm test",
        BUILDKITE_LABEL: ":node: test",
        BUILDKITE_PIPELINE_SLUG: "app",
        BUILDKITE_ORGANIZATION_SLUG: "acme",
        BUILDKITE_BRANCH: "feature",
        BUILDKITE_AGENT_META_DATA_POD: "node-*",
      },
    });
    const timeline = read.json.timeline as { at: string; event: string }[];
    expect(timeline.map((entry) => entry.event)).toEqual(["scheduled"]);
    expect(timeline[0]?.at).toMatch(MILLISECOND_ISO);
  });

  it("cancels a scheduled job (canceled, then 422), and says 404 and 422 when it should", async () => {
    // Prepare
    const id = buildkite.createJob({ command: "true", queue: "never" });

    // Act
    const canceled = await request(`${buildkite.controlUrl}/jobs/${id}/cancel`, "POST");
    const again = await request(`${buildkite.controlUrl}/jobs/${id}/cancel`, "POST");
    const unknown = await request(`${buildkite.controlUrl}/jobs/no-such-job`);
    const invalid = await request(`${buildkite.controlUrl}/jobs`, "POST", { queue: "linux" });
    const state = await request(`${buildkite.url}/jobs/${id}`, "GET", undefined, "wrong");

    // Assess
    expect(canceled.json).toMatchObject({ state: "canceled" });
    expect(again.status).toBe(422);
    expect(unknown.status).toBe(404);
    expect(invalid.status).toBe(422);
    expect(state.status).toBe(401);
    expect(buildkite.job(id).timeline.map((entry) => entry.event)).toEqual([
      "scheduled",
      "canceled",
    ]);
  });

  it("lists jobs and requests, and throttles the Stacks API over HTTP", async () => {
    // Act
    const jobs = await request(`${buildkite.controlUrl}/jobs`);
    const throttle = await request(`${buildkite.controlUrl}/throttle`, "POST", {
      count: 1,
      retryAfterSeconds: 2,
    });
    const refused = await fetch(`${buildkite.url}/token`, {
      headers: { authorization: `Token ${AGENT_TOKEN}` },
    });
    const requests = await request(`${buildkite.controlUrl}/requests`);

    // Assess
    expect(Array.isArray(jobs.json)).toBe(true);
    expect(throttle.status).toBe(200);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("2");
    expect(requests.json).toContainEqual(
      expect.objectContaining({ event: "GET /v3/token (throttled)", status: 429 }),
    );
  });
});

describe("the Buildkite emulator's control API for trouble and paused queues", () => {
  let buildkite: BuildkiteEmulator;

  beforeAll(async () => {
    buildkite = await startBuildkiteEmulator({ agentToken: AGENT_TOKEN });
  });
  afterAll(async () => {
    await buildkite?.close();
  });

  it("makes the Stacks API fail with a 5xx over HTTP, and refuses a status that is not one", async () => {
    // Act
    const armed = await request(`${buildkite.controlUrl}/failures`, "POST", {
      count: 1,
      status: 503,
    });
    const failed = await request(`${buildkite.url}/token`, "GET", undefined, AGENT_TOKEN);
    const after = await request(`${buildkite.url}/token`, "GET", undefined, AGENT_TOKEN);
    const invalid = await request(`${buildkite.controlUrl}/failures`, "POST", { status: 429 });

    // Assess
    expect(armed.status).toBe(200);
    expect(failed.status).toBe(503);
    expect(after.status).toBe(200);
    expect(invalid.status).toBe(422);
  });

  it("stalls the Stacks API over HTTP and refuses a stall without ms", async () => {
    // Act
    const armed = await request(`${buildkite.controlUrl}/stalls`, "POST", { count: 1, ms: 1 });
    const stalled = await request(`${buildkite.url}/token`, "GET", undefined, AGENT_TOKEN);
    const invalid = await request(`${buildkite.controlUrl}/stalls`, "POST", { count: 1 });
    const requests = await request(`${buildkite.controlUrl}/requests`);

    // Assess
    expect(armed.status).toBe(200);
    expect(stalled.status).toBe(200);
    expect(invalid.status).toBe(422);
    expect(requests.json).toContainEqual(
      expect.objectContaining({ event: "GET /v3/token", status: 200 }),
    );
  });

  it("pauses and resumes a cluster queue over HTTP", async () => {
    // Prepare
    await request(
      `${buildkite.url}/stacks/register`,
      "POST",
      { key: "pauser", type: "custom", queue_key: "linux" },
      AGENT_TOKEN,
    );
    const listing = () =>
      request(
        `${buildkite.url}/stacks/pauser/scheduled-jobs?queue_key=linux`,
        "GET",
        undefined,
        AGENT_TOKEN,
      );

    // Act
    const paused = await request(`${buildkite.controlUrl}/queues/linux/pause`, "POST", {
      paused: true,
    });
    const whilePaused = await listing();
    const resumed = await request(`${buildkite.controlUrl}/queues/linux/pause`, "POST", {
      paused: false,
    });
    const afterResume = await listing();
    const invalid = await request(`${buildkite.controlUrl}/queues/linux/pause`, "POST", {
      paused: "yes",
    });

    // Assess
    expect(paused.json).toEqual({ key: "linux", paused: true });
    expect(whilePaused.json.cluster_queue).toMatchObject({ paused: true });
    expect(resumed.json).toEqual({ key: "linux", paused: false });
    expect(afterResume.json.cluster_queue).toMatchObject({ paused: false });
    expect(invalid.status).toBe(422);
  });
});

describe("the Buildkite emulator's queue metrics", () => {
  it("counts scheduled and running jobs and idle agents, in all and per queue", async () => {
    // Prepare
    const buildkite = await startBuildkiteEmulator({ agentToken: AGENT_TOKEN });
    buildkite.createJob({ command: "true", queue: "linux" });
    buildkite.createJob({ command: "true", queue: "linux" });
    const taken = buildkite.createJob({ command: "true" });
    const registered = await request(
      `${buildkite.url}/register`,
      "POST",
      {
        name: "idle-agent",
        meta_data: ["queue=linux"],
      },
      AGENT_TOKEN,
    );
    const accessToken = String(registered.json.access_token);
    await request(`${buildkite.url}/connect`, "POST", undefined, accessToken);
    await request(`${buildkite.url}/jobs/${taken}/acquire`, "PUT", undefined, accessToken);
    buildkite.cancel(buildkite.createJob({ command: "true", queue: "linux" }));

    // Act
    const all = await request(`${buildkite.url}/metrics`, "GET", undefined, AGENT_TOKEN);
    const linux = await request(
      `${buildkite.url}/metrics/queue?name=linux`,
      "GET",
      undefined,
      AGENT_TOKEN,
    );
    const refused = await request(`${buildkite.url}/metrics`, "GET", undefined, accessToken);
    await buildkite.close();

    // Assess
    expect(all.json).toEqual({
      jobs: {
        scheduled: 2,
        running: 1,
        waiting: 0,
        total: 3,
        queues: {
          linux: { scheduled: 2, running: 0, waiting: 0, total: 2 },
          default: { scheduled: 0, running: 1, waiting: 0, total: 1 },
        },
      },
      agents: { idle: 0, busy: 1, total: 1, queues: { linux: { idle: 0, busy: 1, total: 1 } } },
      organization: { slug: "emulated" },
      cluster: { name: "Emulated cluster" },
    });
    expect(linux.json).toMatchObject({
      jobs: { scheduled: 2, running: 0 },
      agents: { busy: 1 },
      organization: { slug: "emulated" },
    });
    expect(refused.status).toBe(401);
  });

  it("answers a 5xx on demand, after checking the token, then counts again", async () => {
    // Prepare
    const buildkite = await startBuildkiteEmulator({ agentToken: AGENT_TOKEN });
    buildkite.createJob({ command: "true", queue: "linux" });
    buildkite.failMetrics(2, 503);

    // Act
    const unauthorized = await request(`${buildkite.url}/metrics`, "GET", undefined, "wrong");
    const statuses: number[] = [];
    for (const path of ["metrics", "metrics/queue?name=linux", "metrics"]) {
      statuses.push(
        (await request(`${buildkite.url}/${path}`, "GET", undefined, AGENT_TOKEN)).status,
      );
    }
    const events = buildkite.requests().map((r) => r.event);
    await buildkite.close();

    // Assess: the refused token used no fault; the third read counts again.
    expect(unauthorized.status).toBe(401);
    expect(statuses).toEqual([503, 503, 200]);
    expect(events).toContain("GET /v3/metrics (failed on demand)");
  });
});
