import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { describeWithCluster } from "./cluster.js";
import { tempDir } from "./helpers.js";

const root = new URL("../../../", import.meta.url).pathname;

function node(args: string[], env: Record<string, string>) {
  return spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env } });
}

describeWithCluster("npm start (scripts/start.mjs)", () => {
  it("brings up a control plane, schedules the sample through the webhook, shows the Job, and the recipe works", async () => {
    // A control plane of its own, not the developer's .testenv.
    const env = { ONDEMAND_EKS_TESTENV_DIR: tempDir(), PORT: "0" };
    const child = node(["scripts/start.mjs"], env);
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const check = () => {
          const found = /Webhook adapter: (\S+)\/webhook/.exec(stdout)?.[1];
          if (found && stdout.includes("Stop with Ctrl-C")) resolve(found);
        };
        child.stdout.on("data", check);
        exited.then((code) => reject(new Error(`start.mjs exited ${code}:\n${stdout}`)));
      });
      // It scheduled the sample event itself, through the webhook, and showed the Job.
      expect(stdout).toContain(
        "Scheduled the sample event examples/job-scheduled.json through the webhook: HTTP 202",
      );
      expect(stdout).toMatch(
        /created: Job buildkite\/buildkite-[0-9a-f-]{36} \(pod definition node-postgres\)/,
      );
      expect(stdout).toMatch(/pod buildkite-[0-9a-z-]+: Pending \(containers: .*agent\)/);
      expect(stdout).toContain("openssl dgst -sha256 -hmac");
      expect(stdout).toContain("kubectl --kubeconfig");

      // What the printed recipe does, done here without a shell.
      const token = readFileSync(
        join(env.ONDEMAND_EKS_TESTENV_DIR, "webhook-token"),
        "utf8",
      ).trim();
      const body = readFileSync(join(root, "examples/job-scheduled.json"), "utf8").trimEnd();
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = createHmac("sha256", token).update(`${timestamp}.${body}`).digest("hex");
      const response = await fetch(`${url}/webhook`, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "x-buildkite-event": "job.scheduled",
          "x-buildkite-signature": `timestamp=${timestamp},signature=${signature}`,
        },
      });
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({
        outcome: "exists",
        podDefinition: "node-postgres",
      });
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      const down = node(["packages/testenv/dist/bin.js", "down"], env);
      await new Promise((resolve) => down.on("exit", resolve));
    }
  });
});
