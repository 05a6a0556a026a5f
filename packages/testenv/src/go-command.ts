import { execFile, spawn } from "node:child_process";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/**
 * Runs a go command in a tools module (`go build`, `go mod download`), feeding each line
 * it writes on stderr to `onLine`. Rejects with the last 40 of those lines when it fails.
 */
export function runGo(
  cwd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void = () => {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("go", [...args], { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    const tail: string[] = [];
    createInterface({ input: child.stderr }).on("line", (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      onLine(line);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`go ${args[0]} failed (exit ${code}):\n${tail.join("\n")}`));
    });
  });
}

export interface GoBuildOptions {
  /** The tools module to build in. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The packages to build, main packages all. */
  readonly packages: readonly string[];
  /** The binary's file name, for one package whose name go would get wrong; else go's names. */
  readonly output?: string;
  readonly ldflags?: string;
  /** Progress lines; `elapsed` says how long the whole build has taken so far. */
  readonly log: (line: string) => void;
  readonly elapsed: () => string;
}

/**
 * Downloads a tools module's dependencies and builds its commands into `<dir>/bin`,
 * reporting progress every 15 s. The build goes to `<dir>/bin.partial-<pid>` first and is
 * renamed into place only when complete, so a build cut short never looks finished.
 */
export async function goBuildInto(dir: string, options: GoBuildOptions): Promise<void> {
  const { cwd, log, elapsed } = options;
  const env = { ...options.env, CGO_ENABLED: "0" };
  log("downloading Go modules...");
  await runGo(cwd, ["mod", "download"], env);
  const { stdout } = await execFileAsync("go", ["list", "-deps", ...options.packages], {
    cwd,
    env,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 30 * 60_000,
  });
  const total = stdout.split("\n").filter(Boolean).length;
  log(`compiling up to ${total} packages (${elapsed()} so far)`);

  const staging = join(dir, `bin.partial-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  let compiled = 0;
  let lastReport = Date.now();
  try {
    const output = options.output ? join(staging, options.output) : `${staging}/`;
    const ldflags = options.ldflags ?? "-s -w";
    await runGo(
      cwd,
      ["build", "-v", "-trimpath", "-ldflags", ldflags, "-o", output, ...options.packages],
      env,
      (line) => {
        if (line.startsWith("go: ")) return;
        compiled += 1;
        if (Date.now() - lastReport >= 15_000) {
          lastReport = Date.now();
          log(`  compiled ${compiled} of up to ${total} packages (${elapsed()})`);
        }
      },
    );
    await rm(join(dir, "bin"), { recursive: true, force: true });
    await rename(staging, join(dir, "bin"));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
