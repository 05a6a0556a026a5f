/**
 * The real buildkite-agent running one job of the Buildkite emulator with the
 * elastic-ci-stack hooks as its hooks path, as the image runs it
 * (`BUILDKITE_HOOKS_PATH`): the agent sources them, builds the job's environment from
 * them and streams the job's log (hooks' output included) to the emulator.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { BuildkiteEmulator } from "@ondemand-eks/testenv";

const execFileAsync = promisify(execFile);

export interface AgentRun {
  readonly code: number;
  readonly output: string;
}

/**
 * Runs `buildkite-agent start --acquire-job <jobId>` until it exits; never throws. `env`
 * is the agent's whole environment (the pod's): the hooks and the job inherit it.
 */
export async function acquireWithHooks(options: {
  agentPath: string;
  buildkite: BuildkiteEmulator;
  token: string;
  jobId: string;
  hooksDir: string;
  workDir: string;
  env: Readonly<Record<string, string>>;
  timeoutMs?: number;
}): Promise<AgentRun> {
  const dir = options.workDir;
  const args = [
    "start",
    ...["--acquire-job", options.jobId, "--name", "elastic-ci-stack-%spawn"],
    ...["--endpoint", options.buildkite.url, "--token", options.token],
    ...["--build-path", join(dir, "builds"), "--hooks-path", options.hooksDir],
    ...["--plugins-path", join(dir, "plugins"), "--sockets-path", join(dir, "sockets")],
    ...["--no-color", "--no-plugins", "--no-feature-reporting", "--ping-mode", "poll-only"],
  ];
  try {
    const { stdout, stderr } = await execFileAsync(options.agentPath, args, {
      env: options.env,
      timeout: options.timeoutMs ?? 90_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}
