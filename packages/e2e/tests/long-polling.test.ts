import { AppsV1Api, KubeConfig, type V1Deployment } from "@kubernetes/client-node";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cliOutput, runToFinish, startWorld } from "./world.js";

// The long-polling definition `linux-pool`, rendered as a Deployment by the CLI and
// applied: its agents poll the emulator's "linux" queue and run what lands there.
const world = await startWorld("e2e-long-polling");
afterAll(() => world.close());

describeWith(world.info, "end to end: long-polling linux-pool agents from a Deployment", () => {
  const w = () => world.info.value as NonNullable<typeof world.info.value>;

  beforeAll(async () => {
    const rendered = await cliOutput([
      "render-deployment",
      "linux-pool",
      "-o",
      "json",
      "--agent-endpoint",
      w().local.buildkite.url,
    ]);
    const deployment = JSON.parse(rendered) as V1Deployment;
    const config = new KubeConfig();
    config.loadFromFile(w().kubeconfig);
    await config.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: deployment.metadata?.namespace ?? "buildkite",
      body: deployment,
    });
  });

  it("takes the linux queue's jobs and runs them; a job for another queue stays scheduled", async () => {
    // Act
    const { buildkite } = w().local;
    const ids = [1, 2, 3].map((n) =>
      // Quoted apart, so only the command's output (not its echo in the log) says "pooled n".
      buildkite.createJob({ command: `echo pool""ed ${n}`, agentQueryRules: ["queue=linux"] }),
    );
    const elsewhere = buildkite.createJob({ command: "true", agentQueryRules: ["queue=gpu"] });
    const ended = await Promise.all(ids.map((id) => runToFinish(w(), id)));

    // Assess
    ended.forEach((job, index) => {
      expect(job.state, job.story).toBe("finished");
      expect(job.exitStatus, job.story).toBe(0);
      expect(job.log).toContain(`pooled ${index + 1}`);
    });
    const agents = ended.map((job) => job.agent);
    expect(agents.every((agent) => agent !== undefined)).toBe(true);
    expect(buildkite.job(elsewhere).state).toBe("scheduled");
  });
});
