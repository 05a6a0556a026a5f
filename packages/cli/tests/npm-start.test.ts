import { spawn } from "node:child_process";
import { expect, it } from "vitest";
import { describeWithCluster } from "./cluster.js";
import { tempDir } from "./helpers.js";

const root = new URL("../../../", import.meta.url).pathname;

function node(args: string[], env: Record<string, string>) {
  return spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env } });
}

interface EmulatedJob {
  id: string;
  state: string;
  exitStatus?: number;
  log: string;
}

describeWithCluster("npm start (scripts/start.mjs)", () => {
  it("runs the sample job from the emulator's webhook to finished, shows it, and the recipe runs another", async () => {
    // A control plane of its own, not the developer's .testenv.
    const env = { ONDEMAND_EKS_TESTENV_DIR: tempDir(), PORT: "0" };
    const child = node(["scripts/start.mjs"], env);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      const control = await new Promise<string>((resolve, reject) => {
        const check = () => {
          const found = /control API (\S+)/.exec(stdout)?.[1];
          if (found && stdout.includes("Stop with Ctrl-C")) resolve(found);
        };
        child.stdout.on("data", check);
        exited.then((code) => reject(new Error(`start.mjs exited ${code}:\n${stdout}\n${stderr}`)));
      });

      // The sample job ran: the Job, its Pod, the log lines, and the finished line.
      const id = /Created job (\S+) in the Buildkite emulator/.exec(stdout)?.[1];
      expect(id, stdout).toMatch(/^[0-9a-f-]{36}$/);
      expect(stdout).toContain(`Job buildkite/buildkite-${id}: SuccessCriteriaMet, Complete`);
      expect(stdout).toMatch(/Pod buildkite-[0-9a-z-]+ on ec2-node-a: Succeeded/);
      expect(stdout).toContain("agent exited 0 (Completed)");
      expect(stdout).toContain("    | hello from my-pipeline, build 1");
      expect(stdout).toContain(`job ${id} finished: exit 0`);
      expect(stdout).toContain("kubectl --kubeconfig");

      // The printed recipe, done here without a shell: a job created in the emulator runs.
      const created = (await (
        await fetch(`${control}/jobs`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            command: "echo from the recipe",
            agentQueryRules: ["queue=default"],
          }),
        })
      ).json()) as EmulatedJob;
      let job = created;
      for (let i = 0; i < 600 && job.state !== "finished"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        job = (await (await fetch(`${control}/jobs/${created.id}`)).json()) as EmulatedJob;
      }
      expect(job.state, stderr).toBe("finished");
      expect(job.exitStatus).toBe(0);
      expect(job.log).toContain("from the recipe");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      const down = node(["packages/testenv/dist/bin.js", "down"], env);
      await new Promise((resolve) => down.on("exit", resolve));
    }
  });
});
