/**
 * The world the elastic-ci-stack hooks' tests build: secrets buckets in moto written with
 * the pinned AWS CLI, SSH keys from ssh-keygen, a recording `docker` stub, and the tools
 * the hooks need on the host.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PrerequisiteMissingError } from "@ondemand-eks/testenv";

/** Tools the hooks call that come from the OS image, not from testenv. */
const HOST_TOOLS = ["bash", "ssh-agent", "ssh-add", "ssh-keygen", "git", "timeout", "find"];

/** Throws PrerequisiteMissingError naming the first host tool that is not installed. */
export function requireHostTools(): void {
  for (const tool of HOST_TOOLS) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      throw new PrerequisiteMissingError(
        `${tool} is not installed (the elastic-ci-stack hooks need it); apt-get install openssh-client git coreutils findutils`,
      );
    }
  }
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A value unique to this run, so a leak is found by searching for it. */
export function secret(label: string): string {
  return `${label}-${randomUUID()}`;
}

const scratchDirs: string[] = [];

/** A new temporary directory, deleted by {@link removeScratchDirs}. */
export async function scratchDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `ecs-hooks-${label}-`));
  scratchDirs.push(dir);
  return dir;
}

/** Deletes every directory {@link scratchDir} made. */
export async function removeScratchDirs(): Promise<void> {
  await Promise.all(scratchDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Environment for the pinned AWS CLI against moto, with dummy credentials. */
export function awsEnv(
  awsBin: string,
  endpoint: string,
  credentials: { id: string; secret: string } = { id: "AKIDTESTHOOKS", secret: "hooks" },
): Record<string, string> {
  return {
    PATH: `${dirname(awsBin)}:/usr/bin:/bin`,
    AWS_ENDPOINT_URL: endpoint,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: credentials.id,
    AWS_SECRET_ACCESS_KEY: credentials.secret,
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/** Runs the AWS CLI and returns its stdout. */
export function aws(env: Record<string, string>, args: readonly string[]): string {
  return execFileSync("aws", args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Creates `bucket` holding `objects` (key -> body), in one `aws s3 sync`. */
export async function createBucket(
  env: Record<string, string>,
  bucket: string,
  objects: Readonly<Record<string, string>>,
): Promise<void> {
  aws(env, ["s3api", "create-bucket", "--bucket", bucket]);
  const dir = await scratchDir("bucket");
  for (const [key, body] of Object.entries(objects)) {
    await mkdir(dirname(join(dir, key)), { recursive: true });
    await writeFile(join(dir, key), body);
  }
  aws(env, ["s3", "sync", "--only-show-errors", dir, `s3://${bucket}/`]);
}

export interface SshKey {
  /** The private key file's text, as uploaded. */
  readonly privateKey: string;
  /** `ssh-keygen -l` of the public key: what `ssh-add -l` prints for it. */
  readonly fingerprint: string;
}

/** A new ed25519 key pair, passphrase-protected when `passphrase` is given. */
export async function sshKey(comment: string, passphrase = ""): Promise<SshKey> {
  const dir = await scratchDir("key");
  const file = join(dir, "id");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", file]);
  const fingerprint = execFileSync("ssh-keygen", ["-l", "-f", `${file}.pub`], {
    encoding: "utf8",
  }).trim();
  return { privateKey: await readFile(file, "utf8"), fingerprint };
}

/** The base64 lines of a private key: any of them in output would be a leak. */
export function keyMaterial(key: SshKey): string[] {
  return key.privateKey.split("\n").filter((line) => line.length > 20 && !line.startsWith("-"));
}

/** One recorded call of the docker stub. */
export interface DockerCall {
  readonly args: string[];
  readonly stdin: string;
  readonly dockerConfig: string;
}

/**
 * A `docker` that records its arguments, stdin and DOCKER_CONFIG in `calls`, one directory
 * per call: there is no Docker engine here, and a login needs none to be checked.
 */
export async function dockerStub(): Promise<{ bin: string; calls: string }> {
  const bin = await scratchDir("docker-stub");
  const calls = await scratchDir("docker-calls");
  await writeFile(
    join(bin, "docker"),
    [
      "#!/usr/bin/env bash",
      "set -euo pipefail",
      // Numbered in call order; the hooks call docker one call at a time.
      `call="${calls}/$(printf '%04d' "$(find "${calls}" -mindepth 1 -maxdepth 1 | wc -l)")"`,
      'mkdir "$call"',
      'printf "%s\\0" "$@" >"$call/args"',
      'cat >"$call/stdin"',
      'printf "%s" "$(printenv DOCKER_CONFIG || true)" >"$call/docker-config"',
      "",
    ].join("\n"),
  );
  await chmod(join(bin, "docker"), 0o755);
  return { bin, calls };
}

/** The docker stub's calls so far. */
export async function dockerCalls(calls: string): Promise<DockerCall[]> {
  const result: DockerCall[] = [];
  for (const entry of (await readdir(calls)).sort()) {
    const dir = join(calls, entry);
    const args = (await readFile(join(dir, "args"), "utf8")).split("\0").slice(0, -1);
    result.push({
      args,
      stdin: await readFile(join(dir, "stdin"), "utf8"),
      dockerConfig: await readFile(join(dir, "docker-config"), "utf8"),
    });
  }
  return result;
}

/**
 * Whether a process is gone (or a zombie) within `withinMs`: a killed ssh-agent takes a
 * moment to exit and be reaped.
 */
export async function exits(pid: number, withinMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    let state: string | undefined;
    try {
      state = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.[0];
    } catch {
      return true;
    }
    if (state === "Z" || state === "X") return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
