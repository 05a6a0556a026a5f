/**
 * The bundled `elastic-ci-stack` definition on a pod that runs: a job asking for a
 * definition that extends it becomes a Job through `schedule`, in buildkite-privileged,
 * on the privileged node group's tainted node; the test kubelet runs the pod (dockerd as
 * its idle stand-in, the agent from the ondemand-eks-elastic-ci-stack image, so the real
 * agent with the image's hooks), and the hooks read the job's secrets from moto's S3 with
 * the pinned AWS CLI. The job log shows what the job did with them, never a value.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { run } from "@ondemand-eks/cli";
import { ensureAwsCli, REPO_ROOT, skipUnlessCi, startMoto } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  awsEnv,
  createBucket,
  keyMaterial,
  removeScratchDirs,
  requireHostTools,
  secret,
  sha256,
  sshKey,
} from "./elastic-ci-stack/fixtures.js";
import {
  ORDINARY_NODE,
  PRIVILEGED_NODE,
  writeSecretsLibrary,
} from "./elastic-ci-stack/pod-library.js";
import { podOf, runToEnd, schedulerFlags, startWorld, type World } from "./world.js";

const ORGANIZATION = "emulated";
const HOOKS_DIR = join(REPO_ROOT, "images", "elastic-ci-stack", "hooks");
const PIPELINE = "omega";
const NAMESPACE = "buildkite-privileged";

const host = await skipUnlessCi(async () => requireHostTools());
const awsCli = await skipUnlessCi(() => ensureAwsCli());
const moto = await skipUnlessCi(() => startMoto("e2e-elastic-ci-stack-pod"));
afterAll(() => moto.value?.stop());
// The token Secret and `local.namespace` in buildkite-privileged, where this definition's
// Jobs go; a privileged node and an ordinary one.
const world = await startWorld("e2e-elastic-ci-stack-pod", {
  namespace: NAMESPACE,
  nodes: [PRIVILEGED_NODE, ORDINARY_NODE],
});
afterAll(() => world.close());
afterAll(removeScratchDirs);

describeWith(
  [host, awsCli, moto, world.info],
  "the elastic-ci-stack definition end to end, on a pod that runs",
  () => {
    const w = () => world.info.value as World;
    const bucket = `pod-secrets-${Date.now()}`;
    const missingBucket = `no-such-bucket-${Date.now()}`;
    const plainVar = secret("plain-var");
    const databaseUrl = secret("postgres://ci:database-password");
    const apiToken = secret("api-token");
    let keyLines: string[] = [];
    let fingerprint = "";
    let library = "";

    /** Every secret value, for the leak checks and to scrub assertion messages. */
    const secrets = () => [plainVar, databaseUrl, apiToken, ...keyLines];
    const scrub = (text: string) =>
      secrets().reduce((out, value) => out.split(value).join("<secret>"), text);

    /** The EventBridge "Job Scheduled" events the emulator sent, by job id. */
    const events = new Map<string, unknown>();

    beforeAll(async () => {
      w().local.buildkite.deliverTo({
        kind: "eventbridge",
        send: async (event) => {
          events.set(event.detail.job.uuid, event);
        },
      });
      const key = await sshKey("pod-key");
      keyLines = keyMaterial(key);
      fingerprint = key.fingerprint.split(" ")[1] ?? "";
      const endpoint = moto.value?.endpoint ?? "";
      await createBucket(awsEnv(awsCli.value ?? "", endpoint), bucket, {
        // A variable at the bucket's root, and the pipeline's own secrets.
        env: `PLAIN_VAR=${plainVar}\n`,
        [`${PIPELINE}/secret-files/DATABASE_URL`]: databaseUrl,
        [`${PIPELINE}/secret-files/API_TOKEN`]: apiToken,
        [`${PIPELINE}/private_ssh_key`]: key.privateKey,
      });
      library = await mkdtemp(join(tmpdir(), "e2e-elastic-ci-stack-"));
      await writeSecretsLibrary(library, {
        pipeline: `${ORGANIZATION}/${PIPELINE}`,
        bucket,
        missingBucket,
        awsBin: awsCli.value ?? "",
        endpoint,
      });
    });
    afterAll(() => rm(library, { recursive: true, force: true }));

    /**
     * A job for `definition` in the emulator, through `ondemand-eks schedule` with its
     * EventBridge "Job Scheduled" event, or with its `job.scheduled` webhook body, which
     * names no organization: the `pipelines` access rule then reads it from the build's URL.
     */
    async function schedule(
      definition: string,
      command: string,
      form: "eventbridge" | "webhook" = "eventbridge",
    ): Promise<string> {
      const { buildkite } = w().local;
      const id = buildkite.createJob({
        command,
        pipelineSlug: PIPELINE,
        agentQueryRules: ["queue=default", `pod=${definition}`],
      });
      await buildkite.deliveries();
      const event = form === "webhook" ? buildkite.scheduledWebhook(id) : events.get(id);
      expect(event, "the emulator sent no Job Scheduled event").toBeDefined();
      let output = "";
      const status = await run(
        ["schedule", "--event", "-", "--library", library, ...schedulerFlags(w())],
        {
          stdout: (text) => {
            output += text;
          },
          stderr: (text) => {
            output += text;
          },
          readStdin: async () => JSON.stringify(event),
          readFile: async () => "",
          env: {},
        },
      );
      expect(status, output).toBe(0);
      return id;
    }

    /** Every container's output the kubelet kept for the job's pod. */
    async function containerLogs(pod: V1Pod | undefined): Promise<string> {
      const name = pod?.metadata?.name ?? "";
      const containers = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])];
      const logs = await Promise.all(
        containers.map((c) => w().local.kubelet.containerLog(NAMESPACE, name, c.name)),
      );
      return logs.join("\n");
    }

    it("runs the job on the privileged node with its S3 secrets, which the log never shows (from the webhook body)", async () => {
      // Act: the job uses its secrets carelessly; only checksums say what it got. Its
      // webhook names no organization: the pipelines rule must read it from the build URL.
      const id = await schedule(
        "docker-builds",
        [
          'printf "sha %s\\n" "$(printf %s "$PLAIN_VAR|$DATABASE_URL|$API_TOKEN" | sha256sum | cut -c1-64)"',
          'echo "database: $DATABASE_URL"',
          'echo "token: $API_TOKEN"',
          "ssh-add -l",
        ].join("\n"),
        "webhook",
      );
      const ended = await runToEnd(w(), id);

      // Assess: the job, as Buildkite and Kubernetes saw it.
      const story = scrub(ended.story);
      expect(ended.exitStatus, story).toBe(0);
      expect(ended.kubernetes, story).toBe("Complete");
      expect(ended.log).toContain(`sha ${sha256(`${plainVar}|${databaseUrl}|${apiToken}`)}`);
      expect(ended.log).toContain("database: [REDACTED]");
      expect(ended.log).toContain("token: [REDACTED]");
      expect(ended.log).toContain(fingerprint);
      // The image's hooks ran (the repository's, as the image holds them): the pipeline's
      // prefix, then the bucket's root; pre-exit cleaned up.
      expect(ended.log).toContain(join(HOOKS_DIR, "environment"));
      expect(ended.log).toContain(
        `Loading secrets from s3://${bucket}/${PIPELINE}/ then s3://${bucket}/`,
      );
      expect(ended.log).toContain("Stopped the job's ssh-agent");
      // The pod: the definition's namespace, account, node and image; dockerd beside the agent.
      const pod = await podOf(w(), id);
      expect(pod?.metadata?.namespace).toBe(NAMESPACE);
      expect(pod?.spec?.nodeName).toBe(PRIVILEGED_NODE.name);
      expect(pod?.spec?.serviceAccountName).toBe("buildkite-elastic-ci-stack");
      const agent = pod?.spec?.containers.find((c) => c.name === "agent");
      expect(agent?.image).toBe("ondemand-eks-elastic-ci-stack:latest");
      // dockerd, a native sidecar, stood in as an idle process and stopped after the agent.
      const dockerd = pod?.spec?.initContainers?.find((c) => c.name === "dockerd");
      expect(dockerd?.restartPolicy).toBe("Always");
      const dockerdStatus = pod?.status?.initContainerStatuses?.find((c) => c.name === "dockerd");
      expect(dockerdStatus?.state?.terminated?.exitCode, story).toBe(0);
      // No secret anywhere: the job log, the containers' output, the Job's story.
      const outputs = {
        "job log": ended.log,
        "container logs": await containerLogs(pod),
        story: ended.story,
      };
      const leaks = Object.entries(outputs).flatMap(([name, text]) =>
        secrets().some((value) => text.includes(value)) ? [name] : [],
      );
      expect(leaks).toEqual([]);
    });

    it("fails the job at once, naming the bucket, when the secrets bucket does not exist", async () => {
      // Act
      const started = Date.now();
      const id = await schedule("docker-builds-no-bucket", 'echo "command ra""n"');
      const ended = await runToEnd(w(), id);

      // Assess
      const story = scrub(ended.story);
      expect(ended.state, story).toBe("finished");
      expect(ended.exitStatus, story).toBeDefined();
      expect(ended.exitStatus, story).not.toBe(0);
      expect(ended.kubernetes, story).toBe("Failed");
      expect(ended.log).toContain(
        `elastic-ci-stack environment hook: cannot read the secrets in s3://${missingBucket}/${PIPELINE}/`,
      );
      expect(ended.log).toContain("NoSuchBucket");
      expect(ended.log).not.toContain("command ran");
      // Well inside runToEnd's 50 s: nothing waited on a timeout.
      expect(Date.now() - started).toBeLessThan(40_000);
    });

    it("stays Pending without the toleration: the only node it may use is tainted", async () => {
      // Act
      const id = await schedule("docker-builds-untolerated", "true");
      let pod: V1Pod | undefined;
      let unschedulable: string | undefined;
      for (let i = 0; i < 100 && unschedulable === undefined; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        pod = await podOf(w(), id);
        const condition = pod?.status?.conditions?.find((c) => c.type === "PodScheduled");
        if (condition?.reason === "Unschedulable") unschedulable = condition.message;
      }

      // Assess: the taint keeps it off the privileged node, the selector off the other.
      expect(pod?.status?.phase).toBe("Pending");
      expect(pod?.spec?.nodeName).toBeUndefined();
      expect(unschedulable).toMatch(/1 node\(s\) had untolerated taint/);
      expect(unschedulable).toMatch(/1 node\(s\) didn't match Pod's node affinity\/selector/);
    });
  },
);
