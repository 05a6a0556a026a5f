/**
 * The elastic-ci-stack image's agent hooks (images/elastic-ci-stack/hooks), run as
 * buildkite-agent runs them (tests/elastic-ci-stack/agent-lifecycle.ts) with the pinned
 * AWS CLI against moto: S3 secrets in Elastic CI Stack's bucket layout, at pipeline and
 * bucket level, ECR login, and the failures a job must report at once and clearly. The one
 * stand-in is `docker`: there is no engine here, so a stub records what it was given.
 * Every secret is unique to the run; the last test searches every output for them.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  AWSCLI_VERSION,
  type BuildkiteEmulator,
  ensureAwsCli,
  ensureBuildkiteAgent,
  REPO_ROOT,
  skipUnlessCi,
  startBuildkiteEmulator,
  startMoto,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Lifecycle, runLifecycle } from "./elastic-ci-stack/agent-lifecycle.js";
import {
  aws,
  awsEnv,
  createBucket,
  type DockerCall,
  dockerCalls,
  dockerStub,
  exits,
  keyMaterial,
  removeScratchDirs,
  requireHostTools,
  type SshKey,
  scratchDir,
  secret,
  sha256,
  sshKey,
} from "./elastic-ci-stack/fixtures.js";
import { acquireWithHooks } from "./elastic-ci-stack/real-agent.js";

const IMAGE_DIR = join(REPO_ROOT, "images", "elastic-ci-stack");
const HOOKS_DIR = join(IMAGE_DIR, "hooks");
const GIT_HOST = "git.example.com";
const AGENT_TOKEN = "elastic-ci-stack-agent-token";

/** Variables the job reports (as checksums) in every case. */
const REPORTED = [
  "ROOT_ONLY",
  "SHARED_VAR",
  "ALPHA_ONLY",
  "GAMMA_VAR",
  "SHARED_TOKEN",
  "ROOT_TOKEN",
  "GAMMA_TOKEN",
  "AFTER_UNSET",
];

/**
 * The job: prints only checksums of what it got (variables, the git password the
 * credential helper gives), its ssh-agent's key fingerprints and its DOCKER_CONFIG.
 */
const JOB = `
for v in ${REPORTED.join(" ")}; do
  if [[ -v $v ]]; then printf 'var %s %s\\n' "$v" "$(printf '%s' "\${!v}" | sha256sum | cut -c1-64)"
  else printf 'var %s unset\\n' "$v"; fi
done
ssh-add -l 2>/dev/null | sed 's/^/ssh /'
password="$(printf 'protocol=https\\nhost=${GIT_HOST}\\n\\n' | git credential fill 2>/dev/null | sed -n 's/^password=//p' || true)"
printf 'git %s\\n' "$(printf '%s' "$password" | sha256sum | cut -c1-64)"
printf 'docker-config %s\\n' "\${DOCKER_CONFIG:-}"
printf 'ssh-agent-pid %s\\n' "\${SSH_AGENT_PID:-}"
printf 'job-dir-mode %s\\n' "$(stat -c %a "\${ONDEMAND_EKS_JOB_TMPDIR:-/nonexistent}" 2>/dev/null || true)"
`;

/** What the job printed. */
interface JobReport {
  vars: Record<string, string>;
  sshKeys: string[];
  gitPassword: string;
  dockerConfig: string;
  sshAgentPid: number | undefined;
  jobDirMode: string;
}

function report(run: Lifecycle): JobReport {
  const lines = (run.job?.stdout ?? "").split("\n");
  const value = (prefix: string) =>
    lines.find((line) => line.startsWith(`${prefix} `))?.slice(prefix.length + 1) ?? "";
  const vars: Record<string, string> = {};
  for (const line of lines.filter((l) => l.startsWith("var "))) {
    const [, name, hash] = line.split(" ");
    if (name !== undefined && hash !== undefined) vars[name] = hash;
  }
  const pid = Number.parseInt(value("ssh-agent-pid"), 10);
  return {
    vars,
    sshKeys: lines.filter((l) => l.startsWith("ssh ")).map((l) => l.slice(4)),
    gitPassword: value("git"),
    dockerConfig: value("docker-config"),
    sshAgentPid: Number.isNaN(pid) ? undefined : pid,
    jobDirMode: value("job-dir-mode"),
  };
}

/** The password `docker login --password-stdin` reads: stdin less a trailing newline. */
function loginPassword(call: DockerCall | undefined): string | undefined {
  return call?.stdin.replace(/\r?\n$/, "");
}

/** The checksums the job prints for `values` (name -> value, undefined: unset). */
function expectedVars(values: Record<string, string | undefined>): Record<string, string> {
  const expected: Record<string, string> = {};
  for (const name of REPORTED) {
    const v = values[name];
    expected[name] = v === undefined ? "unset" : sha256(v);
  }
  return expected;
}

// Every secret value the tests upload, and every output of every process they run.
const secrets: string[] = [];
const outputs: { name: string; text: string }[] = [];
function track<T extends string>(value: T): T {
  secrets.push(value);
  return value;
}
function trackKey(key: SshKey): SshKey {
  secrets.push(...keyMaterial(key));
  return key;
}

const host = await skipUnlessCi(async () => requireHostTools());
const awsCli = await skipUnlessCi(() => ensureAwsCli());
const moto = await skipUnlessCi(() => startMoto("elastic-ci-stack-hooks"));
afterAll(() => moto.value?.stop());
// A second moto for the access-denied case: it enforces IAM once that case set it up.
const iamMoto = await skipUnlessCi(() => startMoto("elastic-ci-stack-hooks-iam"));
afterAll(() => iamMoto.value?.stop());
const agent = await skipUnlessCi(() => ensureBuildkiteAgent());
const endpoint = () => moto.value?.endpoint ?? "";
const awsBin = () => awsCli.value ?? "";
afterAll(removeScratchDirs);

describe("images/elastic-ci-stack", () => {
  it("installs the AWS CLI version the hooks are tested with, and points the agent at its hooks", async () => {
    // Prepare
    const dockerfile = await readFile(join(IMAGE_DIR, "Dockerfile"), "utf8");

    // Assess
    expect(/^ARG AWSCLI_VERSION=(\S+)$/m.exec(dockerfile)?.[1]).toBe(AWSCLI_VERSION);
    expect(dockerfile).toMatch(/awscli==\$\{AWSCLI_VERSION\}/);
    const hooksPath = /^ENV BUILDKITE_HOOKS_PATH=(\S+)$/m.exec(dockerfile)?.[1];
    expect(hooksPath).toBeDefined();
    expect(dockerfile).toMatch(new RegExp(`^COPY .*hooks/ ${hooksPath}/?$`, "m"));
  });
});

describeWith(
  [host, awsCli, moto, iamMoto],
  "elastic-ci-stack agent hooks, run as the agent runs them",
  () => {
    const setupEnv = () => awsEnv(awsBin(), endpoint());

    /**
     * One job through the hooks; `agentEnv` adds to the pod's base environment, `aws`
     * replaces its moto and credentials.
     */
    async function job(
      name: string,
      agentEnv: Record<string, string>,
      options: {
        killAfterMs?: number;
        aws?: { endpoint: string; credentials: { id: string; secret: string } };
      } = {},
    ) {
      const home = await scratchDir("home");
      const tmp = await scratchDir("tmp");
      const docker = await dockerStub();
      const base = awsEnv(awsBin(), options.aws?.endpoint ?? endpoint(), options.aws?.credentials);
      const env = {
        ...base,
        PATH: `${docker.bin}:${base.PATH}`,
        HOME: home,
        TMPDIR: tmp,
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_TERMINAL_PROMPT: "0",
        BUILDKITE_JOB_ID: name,
        ...agentEnv,
      };
      const run = await runLifecycle({
        hooksDir: HOOKS_DIR,
        env,
        command: JOB,
        killAfterMs: options.killAfterMs,
      });
      for (const [step, result] of Object.entries({
        environment: run.environment,
        job: run.job,
        "pre-exit": run.preExit,
      })) {
        if (result === undefined) continue;
        outputs.push({ name: `${name} ${step} stdout`, text: result.stdout });
        outputs.push({ name: `${name} ${step} stderr`, text: result.stderr });
      }
      return { run, tmp, docker, report: report(run) };
    }

    /** Nothing of the job's is left once pre-exit ran: no private directory, no ssh-agent. */
    async function expectCleanedUp(tmp: string, sshAgentPid: number | undefined) {
      expect((await readdir(tmp)).filter((entry) => entry.startsWith("ondemand-eks-job."))).toEqual(
        [],
      );
      if (sshAgentPid !== undefined) expect(await exits(sshAgentPid)).toBe(true);
    }

    // Bucket "both": secrets at the root and for pipeline "alpha"; "pipeline": only "gamma".
    const root = {
      key: undefined as SshKey | undefined,
      ROOT_ONLY: track(secret("root-only")),
      SHARED_VAR: track(secret("root-shared")),
      SHARED_TOKEN: track(secret("root-shared-token")),
      ROOT_TOKEN: track(secret("root-token")),
      git: track(secret("root-git-password")),
    };
    const alpha = {
      key: undefined as SshKey | undefined,
      SHARED_VAR: track(secret("alpha-shared")),
      ALPHA_ONLY: track(secret("alpha-only")),
      SHARED_TOKEN: track(secret("alpha-shared-token")),
      git: track(secret("alpha-git-password")),
    };
    const gamma = {
      key: undefined as SshKey | undefined,
      GAMMA_VAR: track(secret("gamma-var")),
      GAMMA_TOKEN: track(secret("gamma-token")),
      git: track(secret("gamma-git-password")),
    };
    const both = `secrets-both-${Date.now()}`;
    const pipelineOnly = `secrets-pipeline-${Date.now()}`;

    beforeAll(async () => {
      root.key = trackKey(await sshKey("root-key"));
      alpha.key = trackKey(await sshKey("alpha-key"));
      gamma.key = trackKey(await sshKey("gamma-key"));
      await createBucket(setupEnv(), both, {
        private_ssh_key: root.key.privateKey,
        env: `ROOT_ONLY=${root.ROOT_ONLY}\nSHARED_VAR=${root.SHARED_VAR}\n`,
        "git-credentials": `https://ci:${root.git}@${GIT_HOST}\n`,
        // Uploaded with `echo`, as people do: the trailing newline is not part of the value.
        "secret-files/SHARED_TOKEN": `${root.SHARED_TOKEN}\n`,
        "secret-files/ROOT_TOKEN": root.ROOT_TOKEN,
        "alpha/private_ssh_key": alpha.key.privateKey,
        "alpha/environment": `SHARED_VAR=${alpha.SHARED_VAR}\nALPHA_ONLY=${alpha.ALPHA_ONLY}\n`,
        // No newline after the last entry: the store file still gets one.
        "alpha/git-credentials": `https://ci:${alpha.git}@${GIT_HOST}`,
        "alpha/secret-files/SHARED_TOKEN": alpha.SHARED_TOKEN,
      });
      await createBucket(setupEnv(), pipelineOnly, {
        // The legacy name of the SSH key.
        "gamma/id_rsa_github": gamma.key.privateKey,
        "gamma/env": `GAMMA_VAR=${gamma.GAMMA_VAR}\n`,
        "gamma/git-credentials": `https://ci:${gamma.git}@${GIT_HOST}\n`,
        "gamma/secret-files/GAMMA_TOKEN": gamma.GAMMA_TOKEN,
      });
    });

    it("gives the job every kind of pipeline-level secret", async () => {
      // Act
      const { run, tmp, report } = await job("pipeline-level", {
        BUILDKITE_PLUGIN_S3_SECRETS_BUCKET: pipelineOnly,
        BUILDKITE_PIPELINE_SLUG: "gamma",
      });

      // Assess
      expect(run.environment.code, run.environment.stderr).toBe(0);
      expect(run.job?.code).toBe(0);
      expect(report.vars).toEqual(
        expectedVars({ GAMMA_VAR: gamma.GAMMA_VAR, GAMMA_TOKEN: gamma.GAMMA_TOKEN }),
      );
      expect(report.sshKeys).toEqual([gamma.key?.fingerprint]);
      expect(report.gitPassword).toBe(sha256(gamma.git));
      expect(report.dockerConfig.startsWith(`${tmp}/ondemand-eks-job.`)).toBe(true);
      expect(report.jobDirMode).toBe("700");
      expect(run.preExit.code).toBe(0);
      await expectCleanedUp(tmp, report.sshAgentPid);
    });

    it("gives the job every kind of bucket-level secret when its pipeline has none", async () => {
      // Act
      const { run, tmp, report } = await job("bucket-level", {
        BUILDKITE_SECRETS_BUCKET: both,
        BUILDKITE_PIPELINE_SLUG: "beta",
      });

      // Assess
      expect(run.environment.code, run.environment.stderr).toBe(0);
      expect(report.vars).toEqual(
        expectedVars({
          ROOT_ONLY: root.ROOT_ONLY,
          SHARED_VAR: root.SHARED_VAR,
          SHARED_TOKEN: root.SHARED_TOKEN,
          ROOT_TOKEN: root.ROOT_TOKEN,
        }),
      );
      expect(report.sshKeys).toEqual([root.key?.fingerprint]);
      expect(report.gitPassword).toBe(sha256(root.git));
      await expectCleanedUp(tmp, report.sshAgentPid);
    });

    it("lets the pipeline's secrets win over the bucket's, and keeps the bucket's others", async () => {
      // Act
      const { run, tmp, report } = await job("both-levels", {
        BUILDKITE_SECRETS_BUCKET: both,
        BUILDKITE_PIPELINE_SLUG: "alpha",
      });

      // Assess
      expect(run.environment.code, run.environment.stderr).toBe(0);
      expect(report.vars).toEqual(
        expectedVars({
          ROOT_ONLY: root.ROOT_ONLY,
          SHARED_VAR: alpha.SHARED_VAR,
          ALPHA_ONLY: alpha.ALPHA_ONLY,
          SHARED_TOKEN: alpha.SHARED_TOKEN,
          ROOT_TOKEN: root.ROOT_TOKEN,
        }),
      );
      // Both keys, the pipeline's first: ssh offers them in that order.
      expect(report.sshKeys).toEqual([alpha.key?.fingerprint, root.key?.fingerprint]);
      expect(report.gitPassword).toBe(sha256(alpha.git));
      await expectCleanedUp(tmp, report.sshAgentPid);
    });

    it("reads the pipeline's secrets from BUILDKITE_SECRETS_PREFIX instead of the slug", async () => {
      // Act
      const { run, report } = await job("prefix", {
        BUILDKITE_SECRETS_BUCKET: both,
        BUILDKITE_PIPELINE_SLUG: "not-alpha",
        BUILDKITE_SECRETS_PREFIX: "alpha",
      });

      // Assess
      expect(run.environment.code, run.environment.stderr).toBe(0);
      expect(report.vars.ALPHA_ONLY).toBe(sha256(alpha.ALPHA_ONLY));
      expect(report.gitPassword).toBe(sha256(alpha.git));
    });

    it("does nothing about secrets without a bucket, and says so once", async () => {
      // Act
      const { run, tmp, docker, report } = await job("no-bucket", {
        BUILDKITE_PIPELINE_SLUG: "alpha",
      });

      // Assess
      expect(run.environment.code, run.environment.stderr).toBe(0);
      expect(run.environment.stderr.match(/No secrets bucket/g)).toHaveLength(1);
      expect(report.vars).toEqual(expectedVars({}));
      expect(report.sshKeys).toEqual([]);
      expect(report.gitPassword).toBe(sha256(""));
      // A per-job DOCKER_CONFIG all the same, and no ECR login unless asked for.
      expect(report.dockerConfig.startsWith(`${tmp}/ondemand-eks-job.`)).toBe(true);
      expect(await dockerCalls(docker.calls)).toEqual([]);
      await expectCleanedUp(tmp, report.sshAgentPid);
    });

    it("fails the job at once, naming the bucket, when the bucket does not exist", async () => {
      // Prepare
      const missing = `no-such-bucket-${Date.now()}`;

      // Act
      const { run, tmp } = await job(
        "missing-bucket",
        { BUILDKITE_SECRETS_BUCKET: missing, BUILDKITE_PIPELINE_SLUG: "alpha" },
        { killAfterMs: 20_000 },
      );

      // Assess
      expect(run.environment.signal).toBeNull();
      expect(run.environment.code).toBe(1);
      expect(run.environment.stderr).toContain(`s3://${missing}/`);
      expect(run.environment.stderr).toContain("NoSuchBucket");
      expect(run.job).toBeUndefined();
      await expectCleanedUp(tmp, undefined);
    });

    it("fails fast on a passphrase-protected key, never prompting, and stops the ssh-agent", async () => {
      // Prepare: the pipeline's key is fine, the bucket's needs a passphrase. An askpass that
      // hangs (and leaves a mark) is forced on ssh, as a desktop session might.
      const locked = trackKey(await sshKey("locked-key", track(secret("passphrase"))));
      const good = trackKey(await sshKey("good-key"));
      const bucket = `secrets-locked-${Date.now()}`;
      await createBucket(setupEnv(), bucket, {
        "delta/private_ssh_key": good.privateKey,
        private_ssh_key: locked.privateKey,
      });
      const askpassDir = await scratchDir("askpass");
      const askpass = join(askpassDir, "askpass");
      await writeFile(askpass, `#!/bin/sh\ntouch "${askpassDir}/asked"\nsleep 60\n`, {
        mode: 0o755,
      });

      // Act: killed after 15 s, under the hook's own 20 s timeouts on ssh-keygen and ssh-add:
      // a prompt that hangs shows as a kill, not as a slow failure.
      const { run, tmp } = await job(
        "passphrase",
        {
          BUILDKITE_SECRETS_BUCKET: bucket,
          BUILDKITE_PIPELINE_SLUG: "delta",
          SSH_ASKPASS: askpass,
          SSH_ASKPASS_REQUIRE: "force",
          DISPLAY: ":0",
        },
        { killAfterMs: 15_000 },
      );

      // Assess
      expect(run.environment.signal).toBeNull();
      expect(run.environment.code).toBe(1);
      expect(run.environment.stderr).toContain(`s3://${bucket}/private_ssh_key`);
      expect(run.environment.stderr).toContain("passphrase");
      expect(existsSync(join(askpassDir, "asked"))).toBe(false);
      const started = /Started ssh-agent \(pid (\d+)\)/.exec(run.environment.stderr)?.[1];
      expect(started).toBeDefined();
      await expectCleanedUp(tmp, Number(started));
    });

    it("sources an env file that reads an unset variable, as Elastic CI Stack does", async () => {
      // Prepare
      const value = track(secret("after-unset"));
      const bucket = `secrets-unset-${Date.now()}`;
      await createBucket(setupEnv(), bucket, {
        "epsilon/env": `EXTRA_OPTS="$NOT_SET_ANYWHERE --x"\nAFTER_UNSET=${value}\n`,
      });

      // Act
      const { run, report } = await job("unset-var", {
        BUILDKITE_SECRETS_BUCKET: bucket,
        BUILDKITE_PIPELINE_SLUG: "epsilon",
      });

      // Assess
      expect(run.environment.code, run.environment.stderr).toBe(0);
      expect(report.vars.AFTER_UNSET).toBe(sha256(value));
    });

    it("cleans up when an env file ends the hook early, and never shows its error output", async () => {
      // Prepare: the pipeline's key starts an ssh-agent first; its env file then exits, and
      // the other one's error would quote a value.
      const key = trackKey(await sshKey("early-exit-key"));
      const quoted = track(secret("quoted-in-error"));
      const bucket = `secrets-exit-${Date.now()}`;
      await createBucket(setupEnv(), bucket, {
        "zeta/private_ssh_key": key.privateKey,
        "zeta/env": "exit 3\n",
      });
      const bad = `secrets-bad-env-${Date.now()}`;
      await createBucket(setupEnv(), bad, { "eta/env": `PASS=ab ${quoted}\n` });

      // Act
      const exited = await job("early-exit", {
        BUILDKITE_SECRETS_BUCKET: bucket,
        BUILDKITE_PIPELINE_SLUG: "zeta",
      });
      const failing = await job("bad-env", {
        BUILDKITE_SECRETS_BUCKET: bad,
        BUILDKITE_PIPELINE_SLUG: "eta",
      });

      // Assess: the hook ended, its job never ran, and nothing of the job is left.
      expect(exited.run.environment.code).toBe(3);
      expect(exited.run.job).toBeUndefined();
      const started = /Started ssh-agent \(pid (\d+)\)/.exec(exited.run.environment.stderr)?.[1];
      expect(started).toBeDefined();
      await expectCleanedUp(exited.tmp, Number(started));
      expect(failing.run.environment.code).toBe(1);
      expect(failing.run.environment.stderr).toContain(`s3://${bad}/eta/env failed when sourced`);
      expect(failing.run.environment.stderr).not.toContain(quoted);
      await expectCleanedUp(failing.tmp, undefined);
    });

    it("refuses a secret file whose name is not a variable name, naming the object", async () => {
      // Prepare
      const bucket = `secrets-badname-${Date.now()}`;
      await createBucket(setupEnv(), bucket, {
        "secret-files/MY-TOKEN": track(secret("dashed-token")),
      });

      // Act
      const { run, tmp } = await job("bad-name", {
        BUILDKITE_SECRETS_BUCKET: bucket,
        BUILDKITE_PIPELINE_SLUG: "alpha",
      });

      // Assess
      expect(run.environment.code).toBe(1);
      expect(run.environment.stderr).toContain(`s3://${bucket}/secret-files/MY-TOKEN`);
      expect(run.environment.stderr).toContain("not a valid environment variable name");
      await expectCleanedUp(tmp, undefined);
    });

    it("logs Docker in to the caller's ECR registry when BUILDKITE_ECR_POLICY asks for it", async () => {
      // Prepare: the password moto's GetAuthorizationToken gives, from "AWS:<password>".
      const token = JSON.parse(
        aws(setupEnv(), ["ecr", "get-authorization-token", "--output", "json"]),
      ) as { authorizationData: { authorizationToken: string }[] };
      const decoded = Buffer.from(
        token.authorizationData[0]?.authorizationToken ?? "",
        "base64",
      ).toString();
      expect(decoded.startsWith("AWS:")).toBe(true);
      const password = track(decoded.slice("AWS:".length));
      const account = JSON.parse(
        aws(setupEnv(), ["sts", "get-caller-identity", "--output", "json"]),
      ) as { Account: string };

      // Act
      const { run, tmp, docker, report } = await job("ecr-policy", {
        BUILDKITE_ECR_POLICY: "readonly",
      });

      // Assess
      expect(run.environment.code, run.environment.stderr).toBe(0);
      const calls = await dockerCalls(docker.calls);
      expect(calls.map((call) => call.args)).toEqual([
        [
          "login",
          "--username",
          "AWS",
          "--password-stdin",
          `${account.Account}.dkr.ecr.us-east-1.amazonaws.com`,
        ],
      ]);
      expect(loginPassword(calls[0])).toBe(password);
      // Into the job's own Docker config, which pre-exit deleted.
      expect(calls[0]?.dockerConfig).toBe(report.dockerConfig);
      expect(report.dockerConfig.startsWith(`${tmp}/ondemand-eks-job.`)).toBe(true);
      await expectCleanedUp(tmp, undefined);
    });

    it("logs Docker in to each registry of AWS_ECR_LOGIN_REGISTRY_IDS with ECR_LOGIN=true", async () => {
      // Prepare
      const password = aws(setupEnv(), ["ecr", "get-login-password"]).trim();

      // Act
      const { run, docker } = await job("ecr-registries", {
        ECR_LOGIN: "true",
        AWS_ECR_LOGIN_REGISTRY_IDS: "111122223333,444455556666",
      });

      // Assess
      expect(run.environment.code, run.environment.stderr).toBe(0);
      const calls = await dockerCalls(docker.calls);
      expect(calls.map((call) => call.args.at(-1))).toEqual([
        "111122223333.dkr.ecr.us-east-1.amazonaws.com",
        "444455556666.dkr.ecr.us-east-1.amazonaws.com",
      ]);
      expect(calls.map(loginPassword)).toEqual([password, password]);
    });

    it("does not log in to ECR when BUILDKITE_ECR_POLICY is none", async () => {
      // Act
      const { run, docker } = await job("ecr-none", { BUILDKITE_ECR_POLICY: "none" });

      // Assess
      expect(run.environment.code, run.environment.stderr).toBe(0);
      expect(await dockerCalls(docker.calls)).toEqual([]);
    });

    describe("with IAM enforced", () => {
      it("fails the job naming the bucket and key when reading a secret is denied", async () => {
        // Prepare: a user who may list the bucket but not read it; then moto enforces IAM.
        const endpoint = iamMoto.value?.endpoint ?? "";
        const env = awsEnv(awsBin(), endpoint);
        const bucket = "secrets-denied";
        await createBucket(env, bucket, { env: `DENIED_VAR=${track(secret("denied"))}\n` });
        aws(env, ["iam", "create-user", "--user-name", "ci-job"]);
        const policy = {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${bucket}` },
            { Effect: "Deny", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/*` },
          ],
        };
        aws(env, [
          "iam",
          "put-user-policy",
          "--user-name",
          "ci-job",
          "--policy-name",
          "no-reading",
          "--policy-document",
          JSON.stringify(policy),
        ]);
        const [id = "", key = ""] = aws(env, [
          "iam",
          "create-access-key",
          "--user-name",
          "ci-job",
          "--query",
          "AccessKey.[AccessKeyId,SecretAccessKey]",
          "--output",
          "text",
        ])
          .trim()
          .split("\t");
        const reset = await fetch(`${endpoint}/moto-api/reset-auth`, {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: "0",
        });
        expect(reset.ok).toBe(true);

        // Act
        const { run, tmp } = await job(
          "access-denied",
          { BUILDKITE_SECRETS_BUCKET: bucket, BUILDKITE_PIPELINE_SLUG: "epsilon" },
          { killAfterMs: 30_000, aws: { endpoint, credentials: { id, secret: key } } },
        );

        // Assess
        expect(run.environment.signal).toBeNull();
        expect(run.environment.code).toBe(1);
        expect(run.environment.stderr).toContain(`s3://${bucket}/env`);
        expect(run.environment.stderr).toContain("AccessDenied");
        expect(run.job).toBeUndefined();
        await expectCleanedUp(tmp, undefined);
      });
    });
  },
);

describeWith(
  [host, awsCli, moto, agent],
  "elastic-ci-stack hooks under the real buildkite-agent and the Buildkite emulator",
  () => {
    let buildkite: BuildkiteEmulator | undefined;
    beforeAll(async () => {
      buildkite = await startBuildkiteEmulator({ agentToken: AGENT_TOKEN });
    });
    afterAll(() => buildkite?.close());

    it("gives the job its secrets and keeps them out of the job log", async () => {
      // Prepare: a secret file with a name the agent does not treat as secret (the hook
      // asks it to redact that one), one it does (*_TOKEN), and an SSH key.
      const emulator = buildkite as BuildkiteEmulator;
      const bucket = `secrets-agent-${Date.now()}`;
      const databaseUrl = track(secret("postgres://ci:database-password"));
      const apiToken = track(secret("api-token"));
      const key = trackKey(await sshKey("agent-key"));
      await createBucket(awsEnv(awsBin(), endpoint()), bucket, {
        "omega/secret-files/DATABASE_URL": databaseUrl,
        "omega/secret-files/API_TOKEN": apiToken,
        "omega/private_ssh_key": key.privateKey,
      });
      const docker = await dockerStub();
      const base = awsEnv(awsBin(), endpoint());
      const jobId = emulator.createJob({
        pipelineSlug: "omega",
        // The job uses its secrets carelessly: the log must still not show them.
        command: [
          'echo "database: $DATABASE_URL"',
          'echo "token: $API_TOKEN"',
          'printf "sha %s\\n" "$(printf %s "$DATABASE_URL$API_TOKEN" | sha256sum | cut -c1-64)"',
          "ssh-add -l",
        ].join("\n"),
      });

      // Act
      const run = await acquireWithHooks({
        agentPath: agent.value ?? "",
        buildkite: emulator,
        token: AGENT_TOKEN,
        jobId,
        hooksDir: HOOKS_DIR,
        workDir: await scratchDir("agent"),
        env: {
          ...base,
          PATH: `${docker.bin}:${base.PATH}`,
          HOME: await scratchDir("home"),
          TMPDIR: await scratchDir("tmp"),
          BUILDKITE_SECRETS_BUCKET: bucket,
        },
      });

      // Assess
      const job = emulator.job(jobId);
      outputs.push({ name: "real agent job log", text: job.log });
      outputs.push({ name: "real agent output", text: run.output });
      expect(job.exitStatus, `${job.log}\n${run.output}`).toBe(0);
      expect(job.log).toContain(`sha ${sha256(databaseUrl + apiToken)}`);
      expect(job.log).toContain(key.fingerprint.split(" ")[1]);
      expect(job.log).toContain("database: [REDACTED]");
      expect(job.log).toContain("token: [REDACTED]");
    });
  },
);

describeWith([host, awsCli, moto], "elastic-ci-stack hooks, every output above", () => {
  it("never writes a secret to any hook's or job's output", () => {
    // Assess: outputs of every case above (the job prints checksums, never values).
    expect(outputs.length).toBeGreaterThan(20);
    expect(secrets.length).toBeGreaterThan(15);
    const leaks = outputs.flatMap(({ name, text }) =>
      secrets.filter((value) => text.includes(value)).map(() => name),
    );
    expect(leaks).toEqual([]);
  });
});
