import { ensureBuildkiteAgent, skipUnlessCi } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { expect, it } from "vitest";
import { AGENT_TOKEN, emulatorForAgent } from "./agent-runner.js";

// Built (or found in the cache) here, so that without Go the tests are reported as skipped.
const agent = await skipUnlessCi(() => ensureBuildkiteAgent());

describeWith(agent, "the real buildkite-agent against the Buildkite emulator", () => {
  const rig = emulatorForAgent(() => agent.value as string, "buildkite-emulator-");

  /** Runs `buildkite-agent start --acquire-job <id>` to the end; never throws. */
  const acquire = (jobId: string) =>
    rig.run(
      ["--acquire-job", jobId, "--name", "emulated-%spawn", "--ping-mode", "poll-only"],
      60_000,
    );

  const story = (output: string) => rig.story(output);

  it("runs `echo hello`: the job finishes with exit status 0 and its log", async () => {
    // Prepare
    const id = rig.buildkite.createJob({ command: "echo hello" });

    // Act
    const run = await acquire(id);

    // Assess
    const job = rig.buildkite.job(id);
    expect(run.code, story(run.output)).toBe(0);
    expect(job.state, story(run.output)).toBe("finished");
    expect(job.exitStatus, job.log).toBe(0);
    expect(job.log).toContain("hello");
    expect(job.timeline.map((entry) => entry.event)).toEqual([
      "scheduled",
      "accepted by emulated-1",
      "running",
      "finished with exit status 0",
    ]);
    const unknown = rig.buildkite.requests().filter((r) => r.event.endsWith("(unknown route)"));
    expect(unknown, story(run.output)).toEqual([]);
  }, 90_000);

  it("reports a failing command's exit status (`exit 3`)", async () => {
    // Prepare
    const id = rig.buildkite.createJob({ command: "exit 3" });

    // Act
    const run = await acquire(id);

    // Assess
    const job = rig.buildkite.job(id);
    expect(run.code, story(run.output)).toBe(0);
    expect(job.state, story(run.output)).toBe("finished");
    expect(job.exitStatus, job.log).toBe(3);
  }, 90_000);

  it("answers 401 to a wrong token and 422 to a job already taken", async () => {
    // Prepare
    const id = rig.buildkite.createJob({ command: "true" });
    const register = (token: string) =>
      fetch(`${rig.buildkite.url}/register`, {
        method: "POST",
        headers: { authorization: `Token ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "probe" }),
      });

    // Act
    const refused = await register("wrong");
    const { access_token: accessToken } = (await (await register(AGENT_TOKEN)).json()) as {
      access_token: string;
    };
    const acquireOnce = () =>
      fetch(`${rig.buildkite.url}/jobs/${id}/acquire`, {
        method: "PUT",
        headers: { authorization: `Token ${accessToken}` },
      });
    const first = await acquireOnce();
    const second = await acquireOnce();

    // Assess
    expect(refused.status).toBe(401);
    expect(first.status).toBe(200);
    expect(second.status).toBe(422);
    expect(rig.buildkite.job(id).state).toBe("accepted");
  });
});
