/**
 * Runs a job's hooks the way buildkite-agent runs them: the `environment` hook sourced in
 * a bash of its own, whose exported variables (read after it returns) become the job's
 * environment; the command in another bash with that environment, only when the hook
 * succeeded; then the `pre-exit` hook, always. Unexported shell state does not survive
 * from one to the next, as with the real agent.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What one bash process did. `signal` is set when the kill timeout ended it. */
export interface StepResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Lifecycle {
  readonly environment: StepResult;
  /** Undefined when the environment hook failed: the agent then runs no command. */
  readonly job?: StepResult;
  readonly preExit: StepResult;
  /** The job's environment: the agent's plus what the environment hook exported. */
  readonly jobEnv: Readonly<Record<string, string>>;
}

export interface LifecycleOptions {
  readonly hooksDir: string;
  /** The agent's environment (the pod's variables plus BUILDKITE_*). */
  readonly env: Readonly<Record<string, string>>;
  /** The job's command, run with `bash -e -c` like the agent's default shell. */
  readonly command: string;
  /** Each step's process group is killed after this long: a hang shows as `signal`. */
  readonly killAfterMs?: number;
}

/**
 * Runs `bash` with `args` in a process group of its own, with no terminal and empty stdin,
 * killing the whole group after `killAfterMs`.
 */
export function runBash(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  killAfterMs: number,
): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["--noprofile", "--norc", ...args], {
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, killAfterMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `env -0` output as a record. */
function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of text.split("\0")) {
    const at = entry.indexOf("=");
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return env;
}

// The agent's wrapper in miniature: source the hook, keep its status, dump the exports.
const ENVIRONMENT_WRAPPER = '. "$1"\n__status=$?\nenv -0 >"$2"\nexit "$__status"\n';

/**
 * One job through the agent's hooks.
 *
 * @example
 * const run = await runLifecycle({ hooksDir, env, command: "ssh-add -l" });
 * expect(run.environment.code).toBe(0);
 */
export async function runLifecycle(options: LifecycleOptions): Promise<Lifecycle> {
  const killAfterMs = options.killAfterMs ?? 60_000;
  const scratch = await mkdtemp(join(tmpdir(), "ecs-hooks-env-"));
  try {
    const envFile = join(scratch, "env");
    const environment = await runBash(
      ["-c", ENVIRONMENT_WRAPPER, "environment", join(options.hooksDir, "environment"), envFile],
      options.env,
      killAfterMs,
    );
    const succeeded = environment.code === 0;
    const jobEnv = succeeded ? parseEnv(await readFile(envFile, "utf8")) : { ...options.env };
    const job = succeeded
      ? await runBash(["-e", "-c", options.command], jobEnv, killAfterMs)
      : undefined;
    const preExit = await runBash(
      ["-c", '. "$1"', "pre-exit", join(options.hooksDir, "pre-exit")],
      jobEnv,
      killAfterMs,
    );
    return { environment, job, preExit, jobEnv };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
