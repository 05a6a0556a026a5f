import { randomUUID } from "node:crypto";
import { startWebhookServer } from "@ondemand-eks/adapter-http";
import { createScheduler, readConfig } from "@ondemand-eks/runtime";
import { createMetrics } from "@ondemand-eks/runtime/metrics";
import { startTestControlPlane, type TestRun } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, expect, it } from "vitest";
import { capturedLog, post, TOKEN } from "./helpers.js";

// The adapter on the runtime's scheduler, wired as `ondemand-eks serve http` wires it,
// submitting to a control plane of this file's own (started here so that a missing Go is
// reported as skipped, and fails under CI=true).
const plane: TestRun = await startTestControlPlane("http-scheduler", { controllerManager: false });
afterAll(() => plane.teardown(), 120_000);

const servers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
});

/** `serve http` on the test control plane: settings read by the runtime, as from flags. */
async function serve(options: { dryRun?: boolean } = {}) {
  const { scheduler: config } = await readConfig({
    scope: "serve-http",
    flags: { kubeconfig: plane.state?.kubeconfig, ...(options.dryRun ? { dryRun: true } : {}) },
  });
  const { log, lines } = capturedLog();
  const scheduler = await createScheduler(config, { env: {}, metrics: createMetrics(), log });
  const server = await startWebhookServer({
    port: 0,
    host: "127.0.0.1",
    token: TOKEN,
    log: scheduler.log,
    ...(scheduler.metrics ? { metrics: scheduler.metrics } : {}),
    ready: () => scheduler.ready(),
    schedule: (input, context) => scheduler.schedule(input, context),
  });
  servers.push({
    async close() {
      await server.close(1_000);
      await scheduler.close();
    },
  });
  return { url: server.url, lines };
}

const webhook = (uuid: string) =>
  JSON.stringify({
    event: "job.scheduled",
    job: { id: uuid, type: "script", agent_query_rules: ["queue=default"], state: "scheduled" },
    build: { id: randomUUID(), number: 1, branch: "main" },
    pipeline: { id: randomUUID(), slug: "adapter-http" },
  });

describeWith(plane.info, "the webhook adapter on the runtime's scheduler", () => {
  it("makes a Job; the scheduler's line carries the request id; /metrics counts both sides", async () => {
    // Prepare
    const { url, lines } = await serve();
    const uuid = randomUUID();
    // Act
    const first = await post(url, webhook(uuid), {
      "x-buildkite-token": TOKEN,
      "x-request-id": "delivery-1",
    });
    const again = await post(url, webhook(uuid), { "x-buildkite-token": TOKEN });
    const refused = await post(url, webhook(uuid), { "x-buildkite-token": "guess" });
    // Assess
    expect([first.status, again.status, refused.status]).toEqual([202, 202, 401]);
    expect(await first.json()).toMatchObject({ outcome: "created", job: uuid });
    expect(await again.json()).toMatchObject({ outcome: "exists", job: uuid });
    const events = lines.filter((line) => line.msg === "event");
    expect(events).toEqual([
      expect.objectContaining({
        level: "info",
        requestId: "delivery-1",
        auth: "token",
        job: uuid,
        outcome: "created",
      }),
      expect.objectContaining({
        requestId: again.headers.get("x-request-id"),
        job: uuid,
        outcome: "exists",
      }),
    ]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/ondemand_eks_events_total\{outcome="created"\} 1$/m);
    expect(metrics).toMatch(/ondemand_eks_events_total\{outcome="exists"\} 1$/m);
    expect(metrics).toMatch(/ondemand_eks_events_total\{outcome="unauthorized"\} 1$/m);
    expect(metrics).toContain("ondemand_eks_schedule_duration_seconds_bucket");
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it("a dry run answers 202 with what would have happened, and stores nothing", async () => {
    // Prepare
    const dry = await serve({ dryRun: true });
    const real = await serve();
    const uuid = randomUUID();
    const send = (url: string) => post(url, webhook(uuid), { "x-buildkite-token": TOKEN });
    // Act
    const before = await send(dry.url);
    const stored = await send(real.url);
    const after = await send(dry.url);
    // Assess: the first dry run stored nothing, so the real one still creates the Job.
    expect([before.status, stored.status, after.status]).toEqual([202, 202, 202]);
    expect(await before.json()).toMatchObject({ outcome: "dry-run", result: "created", job: uuid });
    expect(await stored.json()).toMatchObject({ outcome: "created", job: uuid });
    expect(await after.json()).toMatchObject({ outcome: "dry-run", result: "exists", job: uuid });
  });
});
