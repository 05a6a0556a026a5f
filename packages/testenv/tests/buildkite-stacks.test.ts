import { type BuildkiteEmulator, startBuildkiteEmulator } from "@ondemand-eks/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const AGENT_TOKEN = "emulated-agent-token";
const CLUSTER_TOKEN = "emulated-cluster-token";

/** A Stacks API call with the cluster token (or `token`); answers status, headers, JSON. */
async function call(
  buildkite: BuildkiteEmulator,
  method: string,
  path: string,
  body?: unknown,
  token = CLUSTER_TOKEN,
) {
  const response = await fetch(`${buildkite.url}/${path}`, {
    method,
    headers: { authorization: `Token ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, unknown>;
  return { status: response.status, headers: response.headers, json };
}

/** Registers stack `key` for `queue`. */
const register = (buildkite: BuildkiteEmulator, key: string, queue: string, token?: string) =>
  call(
    buildkite,
    "POST",
    "stacks/register",
    { key, type: "custom", queue_key: queue, metadata: {} },
    token,
  );

describe("the Buildkite emulator's Stacks API", () => {
  let buildkite: BuildkiteEmulator;
  let clock = Date.parse("2026-08-21T10:00:00.000Z");

  beforeAll(async () => {
    buildkite = await startBuildkiteEmulator({
      agentToken: AGENT_TOKEN,
      clusterToken: CLUSTER_TOKEN,
      organizationSlug: "acme",
      now: () => clock,
    });
  });
  afterAll(async () => {
    await buildkite?.close();
  });

  it("tells who the token is and registers a custom stack", async () => {
    // Act
    const token = await call(buildkite, "GET", "token");
    const stack = await register(buildkite, "k8s", "linux");

    // Assess
    expect(token.status).toBe(200);
    expect(token.json.organization_slug).toBe("acme");
    expect(token.json.cluster_uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(stack.status).toBe(200);
    expect(stack.json).toMatchObject({
      key: "k8s",
      type: "custom",
      cluster_queue_key: "linux",
      state: "connected",
      organization_uuid: token.json.organization_uuid,
    });
  });

  it("lists scheduled jobs of the queue by priority, a page at a time", async () => {
    // Prepare
    await register(buildkite, "pager", "paged");
    const low = buildkite.createJob({ command: "true", queue: "paged", stepKey: "low" });
    const high = buildkite.createJob({ command: "true", queue: "paged", priority: 5 });
    const later = buildkite.createJob({ command: "true", queue: "paged" });
    buildkite.createJob({ command: "true", queue: "elsewhere" });

    // Act
    const first = await call(
      buildkite,
      "GET",
      "stacks/pager/scheduled-jobs?queue_key=paged&limit=2",
    );
    const cursor = (first.json.page_info as { end_cursor: string }).end_cursor;
    const second = await call(
      buildkite,
      "GET",
      `stacks/pager/scheduled-jobs?queue_key=paged&limit=2&after=${cursor}`,
    );

    // Assess
    const ids = (page: typeof first) => (page.json.jobs as { id: string }[]).map((job) => job.id);
    expect(ids(first)).toEqual([high, low]);
    expect(first.json.page_info).toMatchObject({ has_next_page: true });
    expect(ids(second)).toEqual([later]);
    expect(second.json.page_info).toMatchObject({ has_next_page: false });
    expect((first.json.jobs as Record<string, unknown>[])[1]).toMatchObject({
      priority: 0,
      agent_query_rules: ["queue=paged"],
      pipeline: { slug: "pipeline" },
      build: { number: 1, branch: "main" },
      step: { key: "low" },
    });
    expect(first.json.cluster_queue).toMatchObject({ paused: false });
  });

  it("reserves a job once; it is not listed until the reservation expires", async () => {
    // Prepare
    await register(buildkite, "reserver", "reserved");
    const id = buildkite.createJob({ command: "true", queue: "reserved" });
    const list = async () =>
      (
        (await call(buildkite, "GET", "stacks/reserver/scheduled-jobs?queue_key=reserved")).json
          .jobs as { id: string }[]
      ).map((job) => job.id);
    const reserve = () =>
      call(buildkite, "PUT", "stacks/reserver/scheduled-jobs/batch-reserve", {
        job_uuids: [id],
        reservation_expiry_seconds: 60,
      });
    const states = async () =>
      (await call(buildkite, "POST", "stacks/reserver/jobs/get-states", { job_uuids: [id] })).json
        .states;

    // Act
    const first = await reserve();
    const second = await reserve();
    const listedWhileReserved = await list();
    const stateWhileReserved = await states();
    clock += 61_000;
    const listedAfterExpiry = await list();
    const stateAfterExpiry = await states();

    // Assess
    expect(first.json).toEqual({ reserved: [id], not_reserved: [] });
    expect(second.json).toEqual({ reserved: [], not_reserved: [id] });
    expect(listedWhileReserved).not.toContain(id);
    expect(stateWhileReserved).toEqual({ [id]: "reserved" });
    expect(listedAfterExpiry).toContain(id);
    expect(stateAfterExpiry).toEqual({ [id]: "scheduled" });
  });

  it("gives a job's env and command, and fails it with a detail in its timeline", async () => {
    // Prepare
    await register(buildkite, "failer", "failing");
    const id = buildkite.createJob({ command: "make test", queue: "failing" });

    // Act
    const job = await call(buildkite, "GET", `stacks/failer/jobs/${id}`);
    const finish = await call(buildkite, "POST", `stacks/failer/jobs/${id}/finish`, {
      exit_status: -1,
      detail: "ImagePullBackOff: no such image",
    });
    const again = await call(buildkite, "POST", `stacks/failer/jobs/${id}/finish`, {
      detail: "twice",
    });

    // Assess
    expect(job.json).toMatchObject({ id, command: "make test" });
    expect((job.json.env as Record<string, string>).BUILDKITE_JOB_ID).toBe(id);
    expect(finish.status).toBe(200);
    expect(again.status).toBe(422);
    const view = buildkite.job(id);
    expect(view.state).toBe("finished");
    expect(view.exitStatus).toBe(-1);
    expect(view.timeline).toContainEqual(
      expect.objectContaining({
        event: "stack error from failer",
        detail: "ImagePullBackOff: no such image",
      }),
    );
  });

  it("records notifications and reports the ones for unknown jobs", async () => {
    // Prepare
    await register(buildkite, "notifier", "notes");
    const id = buildkite.createJob({ command: "true", queue: "notes" });

    // Act
    const answer = await call(buildkite, "POST", "stacks/notifier/notifications", {
      notifications: [
        { job_uuid: id, detail: "waiting for a node", timestamp: "2026-08-21T10:00:01.250Z" },
        { job_uuid: "00000000-0000-4000-8000-000000000000", detail: "lost" },
      ],
    });

    // Assess
    expect(answer.json).toEqual({ errors: [{ error: "Job not found", indexes: [1] }] });
    expect(buildkite.job(id).timeline).toContainEqual({
      at: "2026-08-21T10:00:01.250Z",
      event: "notification from notifier",
      detail: "waiting for a node",
    });
  });

  it("still lists a paused queue's jobs and says the queue is paused", async () => {
    // Prepare
    await register(buildkite, "pausing", "pausable");
    const id = buildkite.createJob({ command: "true", queue: "pausable" });
    const list = () => call(buildkite, "GET", "stacks/pausing/scheduled-jobs?queue_key=pausable");

    // Act
    buildkite.pauseQueue("pausable", true);
    const paused = await list();
    buildkite.pauseQueue("pausable", false);
    const resumed = await list();

    // Assess
    expect(paused.json.cluster_queue).toMatchObject({ paused: true });
    expect((paused.json.jobs as { id: string }[]).map((job) => job.id)).toEqual([id]);
    expect(resumed.json.cluster_queue).toMatchObject({ paused: false });
  });

  it("refuses to finish a job an agent holds, and finishes a reserved one", async () => {
    // Prepare
    await register(buildkite, "finisher", "held");
    const held = buildkite.createJob({ command: "true", queue: "held" });
    const reserved = buildkite.createJob({ command: "true", queue: "held" });
    const agent = await call(
      buildkite,
      "POST",
      "register",
      { name: "holder", meta_data: ["queue=held"] },
      AGENT_TOKEN,
    );
    const accessToken = String(agent.json.access_token);
    await call(buildkite, "POST", "connect", undefined, accessToken);
    const acquired = await call(buildkite, "PUT", `jobs/${held}/acquire`, undefined, accessToken);
    await call(buildkite, "PUT", "stacks/finisher/scheduled-jobs/batch-reserve", {
      job_uuids: [reserved],
    });

    // Act
    const refused = await call(buildkite, "POST", `stacks/finisher/jobs/${held}/finish`, {
      exit_status: -1,
      detail: "too late",
    });
    const finished = await call(buildkite, "POST", `stacks/finisher/jobs/${reserved}/finish`, {
      exit_status: -1,
      detail: "no node fits",
    });

    // Assess
    expect(acquired.status).toBe(200);
    expect(refused.status).toBe(422);
    expect(String(refused.json.message)).toMatch(/cannot be finished by a stack/);
    expect(buildkite.job(held).state).not.toBe("finished");
    expect(finished.status).toBe(200);
    expect(buildkite.job(reserved).state).toBe("finished");
  });

  it("answers 5xx on demand, then answers normally", async () => {
    // Prepare
    buildkite.failStacks(2, 502);

    // Act
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await call(buildkite, "GET", "token")).status);

    // Assess
    expect(statuses).toEqual([502, 502, 200]);
    expect(buildkite.requests().map((r) => r.event)).toContain("GET /v3/token (failed on demand)");
    expect(() => buildkite.failStacks(1, 429)).toThrow(/5xx/);
  });

  it("answers a stalled request late but in full, and the next one normally", async () => {
    // Prepare
    buildkite.stallStacks(1, 200);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 20);

    // Act
    const stalled = await fetch(`${buildkite.url}/token`, {
      headers: { authorization: `Token ${CLUSTER_TOKEN}` },
      signal: controller.signal,
    }).then(
      () => "answered",
      (error: unknown) => (error instanceof Error ? error.name : "error"),
    );
    clearTimeout(timer);
    const next = await call(buildkite, "GET", "token");

    // Assess
    expect(stalled).toBe("AbortError");
    expect(next.status).toBe(200);
  });

  it("answers 429 with Retry-After while throttled, 401 to a wrong token, 404 to the unknown", async () => {
    // Prepare
    await register(buildkite, "throttled", "linux");
    buildkite.throttle(2, 7);

    // Act
    const refused = [await call(buildkite, "GET", "token"), await call(buildkite, "GET", "token")];
    const accepted = await call(buildkite, "GET", "token");
    const wrongToken = await call(buildkite, "GET", "token", undefined, "wrong");
    const unknownStack = await call(buildkite, "GET", "stacks/nobody/scheduled-jobs?queue_key=x");
    const unknownRoute = await call(buildkite, "GET", "stacks/throttled/whatever");
    const deregistered = await call(buildkite, "POST", "stacks/throttled/deregister");

    // Assess
    expect(refused.map((r) => [r.status, r.headers.get("retry-after")])).toEqual([
      [429, "7"],
      [429, "7"],
    ]);
    expect(accepted.status).toBe(200);
    expect(wrongToken.status).toBe(401);
    expect(unknownStack.status).toBe(404);
    expect(unknownRoute.status).toBe(404);
    expect(deregistered.status).toBe(200);
    expect(buildkite.requests().map((r) => r.event)).toContain(
      "GET /v3/stacks/throttled/whatever (unknown route)",
    );
  });
});

describe("the Buildkite emulator's per-stack rate limit", () => {
  it("refuses requests beyond the limit with 429 and Retry-After", async () => {
    // Prepare
    const buildkite = await startBuildkiteEmulator({
      agentToken: AGENT_TOKEN,
      stacksRateLimit: { requests: 2, windowSeconds: 60 },
      now: () => 0,
    });
    // Without a cluster token of its own, the emulator takes the agent token.
    await register(buildkite, "busy", "linux", AGENT_TOKEN);
    const list = () =>
      call(buildkite, "GET", "stacks/busy/scheduled-jobs?queue_key=linux", undefined, AGENT_TOKEN);

    // Act
    const statuses = [(await list()).status, (await list()).status];
    const third = await list();
    await buildkite.close();

    // Assess
    expect(statuses).toEqual([200, 200]);
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBe("60");
  });
});
