import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BuildkiteEmulator,
  ensureBuildkiteAgent,
  skipUnlessCi,
  startBuildkiteEmulator,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { story as agentStory, runAgent } from "./agent-runner.js";

const AGENT_TOKEN = "emulated-agent-token";

// Built (or found in the cache) here, so that without Go the tests are reported as skipped.
const agent = await skipUnlessCi(() => ensureBuildkiteAgent());

describeWith(agent, "a long-polling buildkite-agent against the Buildkite emulator", () => {
  let buildkite: BuildkiteEmulator;
  let dir: string;

  beforeAll(async () => {
    buildkite = await startBuildkiteEmulator({ agentToken: AGENT_TOKEN });
    dir = await mkdtemp(join(tmpdir(), "buildkite-polling-"));
  });
  afterAll(async () => {
    await buildkite?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs `buildkite-agent start --disconnect-after-job` (no `--acquire-job`) with `flags`
   * until it exits; never throws.
   */
  const poll = (name: string, flags: readonly string[]) =>
    runAgent(agent.value as string, buildkite, {
      token: AGENT_TOKEN,
      dir,
      flags: ["--name", name, "--disconnect-after-job", ...flags],
    });

  const story = (output: string) => agentStory(buildkite, output);

  /** Waits (without a deadline of its own: the test's timeout is one) until `done()`. */
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise((resolve) => setTimeout(resolve, 100));
  };

  const events = (id: string) => buildkite.job(id).timeline.map((entry) => entry.event);

  it("takes the job matching its tags (poll-only), runs it and disconnects", async () => {
    // Prepare
    const elsewhere = buildkite.createJob({ command: "echo elsewhere", queue: "windows" });
    const id = buildkite.createJob({
      command: "echo polled",
      agentQueryRules: ["queue=linux", "os=lin*"],
    });
    const before = buildkite.requests().length;

    // Act
    const run = await poll("poller-%spawn", [
      ...["--tags", "queue=linux,os=linux", "--ping-mode", "poll-only"],
    ]);

    // Assess
    const job = buildkite.job(id);
    expect(run.code, story(run.output)).toBe(0);
    expect(job.state, story(run.output)).toBe("finished");
    expect(job.exitStatus, job.log).toBe(0);
    expect(job.log).toContain("polled");
    expect(events(id)).toEqual([
      "scheduled",
      "assigned to poller-1",
      "accepted by poller-1",
      "running",
      "finished with exit status 0",
    ]);
    expect(buildkite.job(elsewhere).state).toBe("scheduled");
    const unknown = buildkite
      .requests()
      .slice(before)
      .filter((r) => r.event.endsWith("(unknown route)"));
    expect(unknown, story(run.output)).toEqual([]);
  }, 120_000);

  it("in the default ping mode (auto) falls back to polling and runs a default-queue job", async () => {
    // Prepare
    const id = buildkite.createJob({ command: "echo auto", agentQueryRules: ["size=small"] });
    const before = buildkite.requests().length;

    // Act
    const run = await poll("auto-%spawn", ["--tags", "size=small"]);

    // Assess
    const job = buildkite.job(id);
    expect(run.code, story(run.output)).toBe(0);
    expect(job.state, story(run.output)).toBe("finished");
    expect(job.agent).toBe("auto-1");
    expect(job.log).toContain("auto");
    const requests = buildkite.requests().slice(before);
    const streams = requests.filter((r) => r.event.includes("AgentEdgeService/StreamPings"));
    expect(streams.map((r) => r.status)).toContain(404);
    expect(requests.filter((r) => r.event.endsWith("(unknown route)"))).toEqual([]);
  }, 120_000);

  it("cancels a running `sleep 30`: canceling, the agent stops it and finishes, canceled", async () => {
    // Prepare
    const id = buildkite.createJob({ command: "sleep 30", queue: "cancel" });
    const running = poll("canceled-%spawn", ["--tags", "queue=cancel", "--ping-mode", "poll-only"]);
    await until(() => buildkite.job(id).state === "running");

    // Act
    const canceling = buildkite.cancel(id);
    const run = await running;

    // Assess
    const job = buildkite.job(id);
    expect(canceling.state).toBe("canceling");
    expect(run.code, story(run.output)).toBe(0);
    expect(job.state, story(run.output)).toBe("canceled");
    expect(events(id)).toEqual([
      "scheduled",
      "assigned to canceled-1",
      "accepted by canceled-1",
      "running",
      "canceling",
      `finished with exit status ${job.exitStatus}`,
      "canceled",
    ]);
    expect(job.exitStatus).not.toBe(0);
  }, 120_000);
});
