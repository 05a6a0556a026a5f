import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { access, copyFile, mkdir, readFile, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { goVersion, type Log } from "./binaries.js";
import { withBuildLock } from "./build-lock.js";
import { type Daemon, startDaemon } from "./daemon.js";
import { RieToolchainMissingError } from "./errors.js";
import { cacheRoot, REPO_ROOT } from "./paths.js";
import { freePort } from "./ports.js";
import { createRunDir } from "./run-dirs.js";

const execFileAsync = promisify(execFile);

/** The Go module that pins the AWS Lambda Runtime Interface Emulator (RIE). */
const RIE_MODULE_DIR = join(REPO_ROOT, "tools", "lambda-rie");
const RIE_MODULE = "github.com/aws/aws-lambda-runtime-interface-emulator";

/** Our Node runtime for the emulator; src/ and dist/ are both one level below it. */
const BOOTSTRAP = fileURLToPath(new URL("../runtime/bootstrap.mjs", import.meta.url));

/** The emulator version pinned in tools/lambda-rie/go.mod (a pseudo-version: its tags are not semver). */
export async function readRieVersion(): Promise<string> {
  const goMod = await readFile(join(RIE_MODULE_DIR, "go.mod"), "utf8");
  const match = new RegExp(
    `^\\s*(?:require\\s+)?${RIE_MODULE.replaceAll(".", "\\.")}\\s+(v\\S+)`,
    "m",
  ).exec(goMod);
  if (!match?.[1]) throw new Error(`tools/lambda-rie/go.mod does not require ${RIE_MODULE}`);
  return match[1];
}

/** The cached binary's path: named by the version and a hash of the tools module. */
export async function rieBinaryPath(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const hash = createHash("sha256");
  for (const file of ["go.mod", "go.sum", "tools.go"]) {
    hash.update(file).update(await readFile(join(RIE_MODULE_DIR, file)));
  }
  const key = `${await readRieVersion()}-${hash.digest("hex").slice(0, 12)}`;
  return join(cacheRoot(env), "lambda-rie", key, "aws-lambda-rie");
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

const goVersionForRie = (env: NodeJS.ProcessEnv) =>
  goVersion(env, (detail) => new RieToolchainMissingError(detail));

/**
 * Returns the emulator binary, building it first if this version is not cached yet.
 * Concurrent callers wait on one lock, and only the first builds. `env` is what Go sees
 * (PATH, ONDEMAND_EKS_CACHE_DIR, GOPROXY...). Without Go it throws RieToolchainMissingError.
 */
export async function ensureRie(
  options: { log?: Log; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[lambda-rie] ${line}\n`));
  const env = options.env ?? process.env;
  const binary = await rieBinaryPath(env);
  if (await exists(binary)) return binary;

  const go = await goVersionForRie(env);
  const dir = join(binary, "..");
  await mkdir(dir, { recursive: true });
  return withBuildLock(dir, { what: "the Lambda emulator", waitSeconds: 900, log }, async () => {
    if (!(await exists(binary))) await build(binary, go, log, env);
    return binary;
  });
}

async function build(binary: string, go: string, log: Log, env: NodeJS.ProcessEnv): Promise<void> {
  const started = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)}s`;
  log(`building the AWS Lambda Runtime Interface Emulator ${await readRieVersion()} with ${go}`);
  log(
    `this happens once per version (seconds, or two minutes with a cold Go build cache); it goes to ${binary}`,
  );
  const run = (args: string[]) =>
    execFileAsync("go", args, {
      cwd: RIE_MODULE_DIR,
      env: { ...env, CGO_ENABLED: "0" },
      timeout: 15 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  log("downloading Go modules...");
  await run(["mod", "download"]);
  log(`compiling (${elapsed()} so far)`);
  const staging = `${binary}.partial-${process.pid}`;
  const progress = setInterval(() => log(`  still compiling (${elapsed()})`), 15_000);
  try {
    await run([
      "build",
      "-trimpath",
      "-ldflags",
      "-s -w",
      "-o",
      staging,
      `${RIE_MODULE}/cmd/aws-lambda-rie`,
    ]);
    await rename(staging, binary);
  } finally {
    clearInterval(progress);
    await rm(staging, { force: true });
  }
  log(`Lambda emulator built in ${elapsed()}`);
}

export interface LambdaOptions {
  /** The directory holding the handler's module: the function's LAMBDA_TASK_ROOT. */
  handlerDir: string;
  /** Lambda's Handler setting, `file.export`: `index.sqs` is `sqs` of index.mjs (or .js, .cjs). */
  handler: string;
  /** The function's environment variables, as in its Lambda configuration. */
  env?: Record<string, string>;
  log?: Log;
  /** What the Go build sees; process.env by default. */
  buildEnv?: NodeJS.ProcessEnv;
}

export interface LambdaInvokeResult {
  /**
   * 200 for a result, and for an error the handler threw (its body is then
   * `{errorType, errorMessage, stackTrace}`: the emulator drops X-Amz-Function-Error);
   * 502 when the handler could not be loaded.
   */
  status: number;
  /** The response parsed as JSON; undefined when it is not JSON. */
  body: unknown;
  raw: string;
}

export interface EmulatedLambda {
  /** POST an event here to invoke the function, as Lambda's Invoke API would. */
  invokeUrl: string;
  dir: string;
  /** Invokes the function with `event`, one invocation at a time like one Lambda instance. */
  invoke(event: unknown): Promise<LambdaInvokeResult>;
  /** The emulator's output so far, the function's own output included. */
  logs(): string;
  /**
   * The cold start as the emulator measured it (runtime start to its first request for an
   * event), once the first invocation has started the runtime; undefined before.
   */
  initDurationMs(): number | undefined;
  stop(): Promise<void>;
}

/**
 * Runs a Node handler module under the real Lambda Runtime Interface Emulator, with our
 * runtime/bootstrap.mjs as the runtime, on a free loopback port in its own run directory
 * (pid file, log), cleaned up like the control planes' when its owner dies. As in Lambda,
 * the handler is loaded on the first invocation. Without Go (and no emulator cached) it
 * throws RieToolchainMissingError: see skipUnlessCi.
 *
 * @example
 * const lambda = await startLambda("echo", { handlerDir: "dist", handler: "index.echo" });
 * const { status, body } = await lambda.invoke({ hello: "world" });
 * await lambda.stop();
 */
export async function startLambda(name: string, options: LambdaOptions): Promise<EmulatedLambda> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[lambda ${name}] ${line}\n`));
  const rie = await ensureRie({ log, ...(options.buildEnv ? { env: options.buildEnv } : {}) });
  const dir = await createRunDir(name, log);
  try {
    // The run directory rides along in the bootstrap's path, so the pid check recognises it.
    const bootstrap = join(dir, "bootstrap.mjs");
    await copyFile(BOOTSTRAP, bootstrap);
    const [port, apiPort] = [await freePort(), await freePort()];
    const base = `http://127.0.0.1:${port}`;
    const daemon = await startDaemon({
      dir,
      name: "lambda-rie",
      command: rie,
      args: [
        "--log-level",
        "info",
        "--runtime-interface-emulator-address",
        `127.0.0.1:${port}`,
        "--runtime-api-address",
        `127.0.0.1:${apiPort}`,
        process.execPath,
        bootstrap,
        options.handler, // the emulator takes its last argument as the handler
      ],
      env: {
        // The emulator's function ARN always names us-east-1.
        AWS_REGION: "us-east-1",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_LAMBDA_FUNCTION_NAME: name,
        ...options.env,
        LAMBDA_TASK_ROOT: resolve(options.handlerDir),
        _HANDLER: options.handler,
      },
      // Any answer (404 here) means it listens; the invoke path would start the runtime.
      ready: () =>
        fetch(base, { signal: AbortSignal.timeout(2_000) }).then(
          () => true,
          () => false,
        ),
      timeoutMs: 30_000,
      pollMs: 50,
    });
    return emulatedLambda(daemon, base);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The handle on a started emulator: invocations one at a time, its log, a stop. */
function emulatedLambda(daemon: Daemon, base: string): EmulatedLambda {
  let finalLogs: string | undefined;
  const logs = () => {
    if (finalLogs !== undefined) return finalLogs;
    try {
      return readFileSync(daemon.logFile, "utf8");
    } catch {
      return "";
    }
  };
  const stop = async () => {
    await daemon.stop();
    finalLogs ??= logs();
    await rm(daemon.dir, { recursive: true, force: true });
  };
  const invokeUrl = `${base}/2015-03-31/functions/function/invocations`;
  let queue: Promise<unknown> = Promise.resolve();
  const invoke = (event: unknown) => {
    const result = queue.then(() => post(invokeUrl, event));
    queue = result.catch(() => {});
    return result;
  };
  const initDurationMs = () => {
    const match = /INIT REPORT\(durationMs: ([\d.]+)\)/.exec(logs());
    return match?.[1] ? Number(match[1]) : undefined;
  };
  return { invokeUrl, dir: daemon.dir, invoke, logs, initDurationMs, stop };
}

async function post(url: string, event: unknown): Promise<LambdaInvokeResult> {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(event) });
  const raw = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, raw };
}
