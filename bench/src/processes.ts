import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The `ondemand-eks` command as built in this checkout. */
export const CLI = fileURLToPath(new URL("../../packages/cli/dist/bin.js", import.meta.url));

/** A long-running `ondemand-eks` process: its JSON log lines, its memory, and a stop. */
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
export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const listeners: ((line: Record<string, unknown>) => void)[] = [];
  let errors = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    errors = (errors + chunk).slice(-8_000);
  });
  createInterface({ input: child.stdout! }).on("line", (text) => {
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
    onLine: (listener) => listeners.push(listener),
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
