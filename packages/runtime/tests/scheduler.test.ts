import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { dispositionOf } from "@ondemand-eks/core";
import {
  createLogger,
  createScheduler,
  type ReadConfigOptions,
  readConfig,
  type Scheduler,
  silentLogger,
} from "@ondemand-eks/runtime";
import { createMetrics } from "@ondemand-eks/runtime/metrics";
import { type ClusterAuth, kubeconfigAuth } from "@ondemand-eks/submitter";
import { freePort } from "@ondemand-eks/testenv";
import { describeWithCluster, kubeconfigPath } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type SampleEvent = { detail: { job: { uuid: string; agent_query_rules: string[] } } };

/** The repository's sample event: its job asks for `pod=node-postgres` on queue default. */
const SAMPLE = JSON.parse(
  readFileSync(new URL("../../../examples/job-scheduled.json", import.meta.url), "utf8"),
) as SampleEvent;

/** The sample event for another Buildkite job, so tests do not share Jobs. */
function sampleFor(uuid: string, rules?: string[]): SampleEvent {
  const event = structuredClone(SAMPLE);
  event.detail.job.uuid = uuid;
  if (rules) event.detail.job.agent_query_rules = rules;
  return event;
}

/** A scheduler as `schedule --kubeconfig <the run's control plane>` builds it, recording its log. */
async function schedulerFor(
  sources: Partial<ReadConfigOptions> & { flags?: Record<string, string | boolean> } = {},
  options: { auth?: ClusterAuth } = {},
) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: "debug", write: (line) => lines.push(JSON.parse(line)) });
  const metrics = createMetrics();
  const { scheduler: config } = await readConfig({
    scope: "serve-http",
    env: {},
    ...sources,
    flags: { kubeconfig: kubeconfigPath(), ...sources.flags },
  });
  const scheduler = await createScheduler(config, { env: {}, log, metrics, ...options });
  return { scheduler, lines, metrics };
}

/** The status of a GET of the Job named `name`, as the control plane's admin. */
async function jobStatus(name: string, namespace = "buildkite"): Promise<number> {
  const auth = await kubeconfigAuth({ path: kubeconfigPath() });
  const url = new URL(`/apis/batch/v1/namespaces/${namespace}/jobs/${name}`, auth.server);
  const headers = await auth.headers();
  return new Promise((resolve, reject) => {
    const get = request(url, { method: "GET", headers, ...auth.tls }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    get.on("error", reject);
    get.end();
  });
}

/** An auth for an API server that is not there: a loopback port nothing listens on. */
async function closedPortAuth(): Promise<ClusterAuth> {
  const port = await freePort();
  return {
    server: `https://127.0.0.1:${port}`,
    tls: {},
    description: `nothing listening on port ${port}`,
    headers: async () => ({}),
  };
}

describeWithCluster("createScheduler against a real API server", () => {
  let running: Awaited<ReturnType<typeof schedulerFor>>;
  let scheduler: Scheduler;
  beforeAll(async () => {
    running = await schedulerFor();
    scheduler = running.scheduler;
  });
  afterAll(() => scheduler.close());

  it("schedules the sample event: created, then exists; one log line each, with the context given", async () => {
    // Act
    const first = await scheduler.schedule(SAMPLE, { messageId: "m-1" });
    const second = await scheduler.schedule(SAMPLE, { messageId: "m-2" });
    // Assess
    const name = `buildkite-${SAMPLE.detail.job.uuid}`;
    expect(first).toMatchObject({
      outcome: "created",
      job: SAMPLE.detail.job.uuid,
      name,
      namespace: "buildkite",
      queue: "default",
      podDefinition: "node-postgres",
    });
    expect(second).toMatchObject({ outcome: "exists", name });
    expect(await jobStatus(name)).toBe(200);
    expect(running.lines).toEqual([
      expect.objectContaining({
        level: "info",
        msg: "event",
        messageId: "m-1",
        outcome: "created",
        name,
      }),
      expect.objectContaining({
        level: "info",
        msg: "event",
        messageId: "m-2",
        outcome: "exists",
        name,
      }),
    ]);
    expect(running.lines[0]?.durationMs).toEqual(expect.any(Number));
    const metrics = await running.metrics.text();
    expect(metrics).toMatch(/^ondemand_eks_events_total\{outcome="created"\} 1$/m);
    expect(metrics).toMatch(/^ondemand_eks_events_total\{outcome="exists"\} 1$/m);
    expect(metrics).toMatch(
      /^ondemand_eks_schedule_duration_seconds_count\{outcome="created"\} 1$/m,
    );
  });

  it("uses the bundled pod library", async () => {
    const library = await scheduler.library();
    expect(library.names()).toContain("node-postgres");
  });

  it("an invalid event: outcome invalid, to be dead-lettered, logged at warn", async () => {
    running.lines.length = 0;
    const broken = structuredClone(SAMPLE) as { detail: { job: Record<string, unknown> } };
    delete broken.detail.job.uuid;
    const outcome = await scheduler.schedule(broken, { messageId: "m-bad" });
    expect(outcome).toMatchObject({ outcome: "invalid", reason: expect.stringContaining("uuid") });
    expect(dispositionOf(outcome)).toBe("dead-letter");
    expect(running.lines).toEqual([
      expect.objectContaining({
        level: "warn",
        msg: "event",
        outcome: "invalid",
        messageId: "m-bad",
      }),
    ]);
    expect(await running.metrics.text()).toMatch(
      /^ondemand_eks_events_total\{outcome="invalid"\} 1$/m,
    );
  });

  it("a job for another queue: ignored, logged at info, nothing created", async () => {
    running.lines.length = 0;
    const uuid = randomUUID();
    const outcome = await scheduler.schedule(sampleFor(uuid, ["queue=deploy"]));
    expect(outcome).toMatchObject({ outcome: "ignored", job: uuid });
    expect(running.lines).toEqual([expect.objectContaining({ level: "info", outcome: "ignored" })]);
    expect(await jobStatus(`buildkite-${uuid}`)).toBe(404);
  });

  it("is ready while the API server answers", async () => {
    expect(await scheduler.ready()).toBe(true);
  });
});

describeWithCluster("createScheduler: dry runs and unreachable servers", () => {
  it("with dryRun, the API server validates the Job and stores nothing: outcome dry-run", async () => {
    // Prepare
    const { scheduler, lines, metrics } = await schedulerFor({ flags: { dryRun: true } });
    const uuid = randomUUID();
    try {
      // Act
      const outcome = await scheduler.schedule(sampleFor(uuid), { requestId: "r-1" });
      // Assess
      expect(outcome).toMatchObject({
        outcome: "dry-run",
        result: "created",
        name: `buildkite-${uuid}`,
        podDefinition: "node-postgres",
      });
      expect(dispositionOf(outcome)).toBe("acknowledge");
      expect(await jobStatus(`buildkite-${uuid}`)).toBe(404);
      expect(lines).toEqual([
        expect.objectContaining({
          level: "info",
          outcome: "dry-run",
          result: "created",
          requestId: "r-1",
        }),
      ]);
      expect(await metrics.text()).toMatch(/^ondemand_eks_events_total\{outcome="dry-run"\} 1$/m);
    } finally {
      await scheduler.close();
    }
  });

  it("a dry run of a job whose Job exists says what a real submission would do: exists", async () => {
    const real = await schedulerFor();
    const dry = await schedulerFor({ flags: { dryRun: true } });
    const event = sampleFor(randomUUID());
    try {
      expect(await real.scheduler.schedule(event)).toMatchObject({ outcome: "created" });
      expect(await dry.scheduler.schedule(event)).toMatchObject({
        outcome: "dry-run",
        result: "exists",
      });
    } finally {
      await real.scheduler.close();
      await dry.scheduler.close();
    }
  });

  it("is not ready, and fails events to be retried (logged at error), when the API server is not there", async () => {
    const { scheduler, lines } = await schedulerFor(
      { flags: { submitTimeoutSeconds: "0.5" } },
      { auth: await closedPortAuth() },
    );
    const uuid = randomUUID();
    try {
      expect(await scheduler.ready()).toBe(false);
      const outcome = await scheduler.schedule(sampleFor(uuid), { messageId: "m-3" });
      expect(outcome).toMatchObject({ outcome: "failed", job: uuid });
      expect(dispositionOf(outcome)).toBe("retry");
      expect(lines).toEqual([
        expect.objectContaining({ level: "error", outcome: "failed", messageId: "m-3" }),
      ]);
    } finally {
      await scheduler.close();
    }
  });

  it("without a cluster (render), is ready and fails an event instead of throwing", async () => {
    const { scheduler: config } = await readConfig({ scope: "render", env: {} });
    const lines: string[] = [];
    const scheduler = await createScheduler(config, {
      env: {},
      log: createLogger({ write: (line) => lines.push(line) }),
    });
    expect(scheduler.submitter).toBeUndefined();
    expect(scheduler.metrics).toBeUndefined();
    expect(await scheduler.ready()).toBe(true);
    expect(await scheduler.schedule(SAMPLE)).toMatchObject({
      outcome: "failed",
      reason: expect.stringContaining("no cluster is configured"),
    });
    expect(lines).toHaveLength(1);
    await scheduler.close();
  });
});

describe("createScheduler: what attaches to it", () => {
  it("shares its readiness and its shutdown, the last attached stopped first", async () => {
    // Prepare
    const { scheduler: config } = await readConfig({ scope: "render", env: {} });
    const scheduler = await createScheduler(config, { env: {}, log: silentLogger });
    const stopped: string[] = [];
    let reconcilerReady = false;
    scheduler.attach({ ready: () => reconcilerReady, close: () => void stopped.push("first") });
    scheduler.attach({ close: async () => void stopped.push("second") });
    // Act
    const before = await scheduler.ready();
    reconcilerReady = true;
    const after = await scheduler.ready();
    await scheduler.close();
    // Assess
    expect(before).toBe(false);
    expect(after).toBe(true);
    expect(stopped).toEqual(["second", "first"]);
  });
});
