import { ensureBuildkiteAgent, skipUnlessCi } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { expect, it } from "vitest";
import { emulatorForAgent } from "./agent-runner.js";

// Built (or found in the cache) here, so that without Go the tests are reported as skipped.
const agent = await skipUnlessCi(() => ensureBuildkiteAgent());

describeWith(agent, "a long-polling buildkite-agent against the Buildkite emulator", () => {
  const rig = emulatorForAgent(() => agent.value as string, "buildkite-polling-");

  /**
   * Runs `buildkite-agent start --disconnect-after-job` (no `--acquire-job`) with `flags`
   * until it exits; never throws.
   */
  const poll = (name: string, flags: readonly string[]) =>
    rig.run(["--name", name, "--disconnect-after-job", ...flags]);

  const story = (output: string) => rig.story(output);

  /** Waits (without a deadline of its own: the test's timeout is one) until `done()`. */
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise((resolve) => setTimeout(resolve, 100));
  };

  const events = (id: string) => rig.buildkite.job(id).timeline.map((entry) => entry.event);

  it("takes the job matching its tags (poll-only), runs it and disconnects", async () => {
    // Prepare
    const elsewhere = rig.buildkite.createJob({ command: "echo elsewhere", queue: "windows" });
    const id = rig.buildkite.createJob({
      command: "echo polled",
      agentQueryRules: ["queue=linux", "os=lin*"],
    });
    const before = rig.buildkite.requests().length;

    // Act
    const run = await poll("poller-%spawn", [
      ...["--tags", "queue=linux,os=linux", "--ping-mode", "poll-only"],
    ]);

    // Assess
    const job = rig.buildkite.job(id);
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
    expect(rig.buildkite.job(elsewhere).state).toBe("scheduled");
    const unknown = rig.buildkite
      .requests()
      .slice(before)
      .filter((r) => r.event.endsWith("(unknown route)"));
    expect(unknown, story(run.output)).toEqual([]);
  }, 120_000);

  it("in the default ping mode (auto) falls back to polling and runs a default-queue job", async () => {
    // Prepare
    const id = rig.buildkite.createJob({ command: "echo auto", agentQueryRules: ["size=small"] });
    const before = rig.buildkite.requests().length;

    // Act
    const run = await poll("auto-%spawn", ["--tags", "size=small"]);

    // Assess
    const job = rig.buildkite.job(id);
    expect(run.code, story(run.output)).toBe(0);
    expect(job.state, story(run.output)).toBe("finished");
    expect(job.agent).toBe("auto-1");
    expect(job.log).toContain("auto");
    const requests = rig.buildkite.requests().slice(before);
    const streams = requests.filter((r) => r.event.includes("AgentEdgeService/StreamPings"));
    expect(streams.map((r) => r.status)).toContain(404);
    expect(requests.filter((r) => r.event.endsWith("(unknown route)"))).toEqual([]);
  }, 120_000);

  it("cancels a running `sleep 30`: canceling, the agent stops it and finishes, canceled", async () => {
    // Prepare
    const id = rig.buildkite.createJob({ command: "sleep 30", queue: "cancel" });
    const running = poll("canceled-%spawn", ["--tags", "queue=cancel", "--ping-mode", "poll-only"]);
    await until(() => rig.buildkite.job(id).state === "running");

    // Act
    const canceling = rig.buildkite.cancel(id);
    const run = await running;

    // Assess
    const job = rig.buildkite.job(id);
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
