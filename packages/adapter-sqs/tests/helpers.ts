import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@ondemand-eks/core";
import { bundledLibraryDir } from "@ondemand-eks/pod-library";
import { createLogger, createScheduler, readConfig, type Scheduler } from "@ondemand-eks/runtime";

/** A log line, parsed. */
export type Line = Record<string, unknown>;

/**
 * A pod library directory: the bundled definitions, and `broken`, whose Job the API server
 * refuses (a node selector key Kubernetes does not allow).
 */
export async function libraryWithBrokenDefinition(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ondemand-eks-sqs-pods-"));
  await cp(bundledLibraryDir(), dir, { recursive: true });
  await writeFile(
    join(dir, "broken.yaml"),
    'name: broken\nagent:\n  image: buildkite/agent:3\npod:\n  nodeSelector:\n    "not a valid key!": x\n',
  );
  return dir;
}

/**
 * The scheduler `ondemand-eks consume sqs` runs on, built by the runtime from its settings
 * (as from flags) for the test control plane, its log lines kept in `lines`.
 */
export async function testScheduler(
  kubeconfig: string,
  library?: string,
): Promise<{ scheduler: Scheduler; lines: Line[] }> {
  const { scheduler: config } = await readConfig({
    scope: "consume-sqs",
    // A deadline that outlasts the contract's API server restart; the queue's region, as
    // the command requires (moto takes any).
    flags: {
      kubeconfig,
      region: "us-east-1",
      submitTimeoutSeconds: "60",
      ...(library ? { library } : {}),
    },
  });
  const lines: Line[] = [];
  const log = createLogger({
    level: "debug",
    write: (line) => lines.push(JSON.parse(line) as Line),
  });
  return { scheduler: await createScheduler(config, { env: {}, log }), lines };
}

/** Resolves with what `find` finds, polling every 100 ms; fails after `attempts`. */
export async function until<T>(
  find: () => T | undefined,
  what: string,
  attempts = 1200,
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * The runtime's logger at debug, writing parsed lines to `lines` instead of standard
 * output: what a consumer says, read back by a test.
 */
export function recordingLog(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log = createLogger({
    level: "debug",
    write: (line) => lines.push(JSON.parse(line) as Line),
  });
  return { log, lines };
}
