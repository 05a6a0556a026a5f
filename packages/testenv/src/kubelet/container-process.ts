import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";

/**
 * A container standing in as a host process: its own process group (so a stop reaches
 * what it started, as a container's cgroup would), output appended to a log file.
 *
 * @module
 */

/** How a process ended: its exit code, or the signal that ended it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started (no such executable): the runtime's StartError. */
  readonly startError?: string;
}

export interface ContainerProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<ProcessExit>;
  /** Signals the whole process group (what is left of it, once the first process ended). */
  signal(signal: NodeJS.Signals): void;
}

/** Starts `argv` in its own process group with exactly `env`, output appended to `logFile`. */
export function startProcess(
  argv: readonly string[],
  options: { env: Record<string, string>; cwd: string; logFile: string },
): ContainerProcess {
  const [command = "", ...args] = argv;
  const out = openSync(options.logFile, "a");
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once("error", (error) => resolve({ code: 128, signal: null, startError: error.message }));
    child.once("exit", (code, signal) => {
      // A container's end takes what it started with it, as its cgroup would.
      signalGroup("SIGKILL");
      resolve({ code, signal });
    });
  });
  return { pid: child.pid, exited, signal: signalGroup };
}
