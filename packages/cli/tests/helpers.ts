import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliIo, processIo, run } from "@ondemand-eks/cli";
import { afterEach } from "vitest";

export const SAMPLE_EVENT = new URL("../../../examples/job-scheduled.json", import.meta.url)
  .pathname;

/** The executable npm links as `ondemand-eks` (it runs the build, dist/bin.js). */
export const LAUNCHER = new URL("../bin/ondemand-eks.js", import.meta.url).pathname;

export function sample(): Record<string, unknown> {
  return JSON.parse(readFileSync(SAMPLE_EVENT, "utf8"));
}

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory with `files` written into it; removed after the test. */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "ondemand-eks-cli-"));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with the given environment and standard input. */
export async function cli(
  argv: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Ran> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readStdin: async () => options.stdin ?? "",
    readFile: processIo().readFile,
    env: options.env ?? {},
  };
  const status = await run(argv, io);
  return { status, stdout, stderr };
}
