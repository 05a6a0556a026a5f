import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { BuildkiteEmulator } from "@ondemand-eks/testenv";

const execFileAsync = promisify(execFile);

/** How a run of the real agent ended: its exit code and everything it printed. */
export interface AgentRun {
  readonly code: number;
  readonly output: string;
}

/**
 * Runs the real `buildkite-agent start` against `buildkite` with its paths under `dir`,
 * no plugins and no colour, plus `flags`, until it exits; never throws.
 */
export async function runAgent(
  agentPath: string,
  buildkite: BuildkiteEmulator,
  options: { token: string; dir: string; flags: readonly string[]; timeoutMs?: number },
): Promise<AgentRun> {
  const { dir } = options;
  const args = [
    "start",
    ...["--endpoint", buildkite.url, "--token", options.token],
    ...["--build-path", join(dir, "builds"), "--hooks-path", join(dir, "hooks")],
    ...["--plugins-path", join(dir, "plugins"), "--sockets-path", join(dir, "sockets")],
    ...["--no-color", "--no-git-submodules", "--no-ssh-keyscan", "--no-plugins"],
    ...["--no-feature-reporting", ...options.flags],
  ];
  try {
    const { stdout, stderr } = await execFileAsync(agentPath, args, {
      env: { PATH: process.env.PATH, HOME: dir },
      timeout: options.timeoutMs ?? 90_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout}${failed.stderr}` };
  }
}

/** What to print when an assertion fails: the agent's output and every request. */
export function story(buildkite: BuildkiteEmulator, output: string): string {
  const requests = buildkite.requests().map((r) => `${r.status} ${r.event}`);
  return `${output}\n--- requests ---\n${requests.join("\n")}`;
}
