import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

/** The `ondemand-eks` command as built in this checkout. */
export const CLI = fileURLToPath(new URL("../../packages/cli/dist/bin.js", import.meta.url));

/** A long-running Node process (`ondemand-eks`, a floor): its JSON lines, its memory, a stop. */
export interface CliProcess {
  readonly pid: number;
  /** Calls `listener` with every JSON line the process prints on stdout. */
  onLine(listener: (line: Record<string, unknown>) => void): void;
  /** The process's peak resident set since it started (VmHWM), in MiB. */
  peakRssMb(): number;
  /** What it printed on stderr, for errors. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `node <cli> ...args`, the node process itself being the one measured. */
export function startCli(args: string[], env: Record<string, string>, wrap?: Wrap): CliProcess {
  return startNode(CLI, args, env, wrap);
}

/** Runs a command line through another (see in-cluster.ts); it must exec, keeping the pid. */
export type Wrap = (args: readonly string[]) => { command: string; args: string[] };

/** A bench floor's script, built beside the bench (dist/floors/<name>.js). */
export const floorScript = (name: "http-floor" | "sqs-floor") =>
  fileURLToPath(new URL(`./floors/${name}.js`, import.meta.url));

/** Starts `node <script> ...args`. */
export function startNode(
  script: string,
  args: string[],
  env: Record<string, string>,
  wrap?: Wrap,
): CliProcess {
  // Development aid: BENCH_CPU_PROF=<dir> writes a CPU profile of each adapter process.
  const profile = process.env.BENCH_CPU_PROF
    ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF]
    : [];
  const line = [process.execPath, ...profile, script, ...args];
  const run = wrap ? wrap(line) : { command: line[0] as string, args: line.slice(1) };
  const child: ChildProcess = spawn(run.command, run.args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const listeners: ((line: Record<string, unknown>) => void)[] = [];
  let errors = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    errors = (errors + chunk).slice(-8_000);
  });
  // Lines are parsed only for a listener (the bench's CPU is shared with the adapter's);
  // until then stdout is drained unread.
  const stdout = child.stdout as Readable;
  stdout.resume();
  const parseLines = () =>
    createInterface({ input: stdout }).on("line", (text) => {
      if (!text.startsWith("{")) return;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      for (const listener of listeners) listener(line);
    });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    pid: child.pid ?? -1,
    onLine(listener) {
      if (listeners.length === 0) parseLines();
      listeners.push(listener);
    },
    peakRssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const kib = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
      return kib / 1024;
    },
    stderr: () => errors,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const killed = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(killed);
    },
  };
}

/** Resolves once `url` answers 200, or fails after `timeoutMs` with what the process said. */
export async function waitReady(url: string, process: CliProcess, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} was not ready after ${timeoutMs} ms:\n${process.stderr()}`);
}

/** Resolves at the first JSON line `matches` accepts, or fails after `timeoutMs`. */
export function untilLine(
  process: CliProcess,
  matches: (line: Record<string, unknown>) => boolean,
  timeoutMs = 60_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no such line after ${timeoutMs} ms:\n${process.stderr()}`)),
      timeoutMs,
    );
    process.onLine((line) => {
      if (!matches(line)) return;
      clearTimeout(timer);
      resolve();
    });
  });
}
