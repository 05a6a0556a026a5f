import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type BuildkiteEmulator, startBuildkiteEmulator } from "@ondemand-eks/testenv";
import { afterAll, beforeAll } from "vitest";

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

/** The agent token the emulator of {@link emulatorForAgent} accepts. */
export const AGENT_TOKEN = "emulated-agent-token";

/** An emulator and a work directory for the real agent, for one describe block. */
export interface AgentRig {
  readonly buildkite: BuildkiteEmulator;
  /** Runs `buildkite-agent start` with `flags` against the emulator until it exits. */
  run(flags: readonly string[], timeoutMs?: number): Promise<AgentRun>;
  /** The agent's output and every request the emulator answered, for a failure message. */
  story(output: string): string;
}

/**
 * Starts an emulator and a temporary directory before the block's tests and removes them
 * after (call it inside `describe`).
 */
export function emulatorForAgent(agentPath: () => string, prefix: string): AgentRig {
  let buildkite: BuildkiteEmulator | undefined;
  let dir = "";
  beforeAll(async () => {
    buildkite = await startBuildkiteEmulator({ agentToken: AGENT_TOKEN });
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await buildkite?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const started = () => {
    if (!buildkite) throw new Error("the emulator starts in beforeAll");
    return buildkite;
  };
  return {
    get buildkite() {
      return started();
    },
    run: (flags, timeoutMs) =>
      runAgent(agentPath(), started(), { token: AGENT_TOKEN, dir, flags, timeoutMs }),
    story: (output) => story(started(), output),
  };
}
