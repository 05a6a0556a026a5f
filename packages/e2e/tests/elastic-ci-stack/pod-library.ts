/**
 * A pod library as a user of the bundled `elastic-ci-stack` definition writes one: the
 * bundled file copied in unchanged, and definitions that extend it with their own access
 * and secrets bucket, and with the AWS environment that points the hooks at moto.
 */
import { copyFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { REPO_ROOT, type TestNode } from "@ondemand-eks/testenv";

/** The privileged node group's node, labelled and tainted as deploy/aws/node-group.yaml makes it. */
export const PRIVILEGED_NODE: TestNode = {
  name: "ec2-privileged-a",
  labels: {
    "eks.amazonaws.com/compute-type": "ec2",
    "ondemand-eks.io/node-group": "privileged",
  },
  taints: [{ key: "ondemand-eks.io/privileged", value: "true", effect: "NoSchedule" }],
};

/** An ordinary EC2 node, where no elastic-ci-stack pod may go. */
export const ORDINARY_NODE: TestNode = {
  name: "ec2-ordinary-a",
  labels: { "eks.amazonaws.com/compute-type": "ec2" },
};

export interface SecretsLibrary {
  /** `<organization>/<pipeline>` the definitions allow. */
  readonly pipeline: string;
  /** The secrets bucket of `docker-builds`; `docker-builds-no-bucket` names `missingBucket`. */
  readonly bucket: string;
  readonly missingBucket: string;
  /** The pinned `aws` executable: the image has it on PATH, this pod gets it so. */
  readonly awsBin: string;
  /** moto's endpoint, with dummy credentials. */
  readonly endpoint: string;
}

const quoted = (value: string) => JSON.stringify(value);

/**
 * Writes the library into `dir`: `default` and `elastic-ci-stack` from pods/, and
 * - `docker-builds`: elastic-ci-stack for `pipeline`, secrets from `bucket`;
 * - `docker-builds-no-bucket`: the same with a bucket that does not exist;
 * - `docker-builds-untolerated`: the same without the toleration of the node group's taint.
 */
export async function writeSecretsLibrary(dir: string, options: SecretsLibrary): Promise<void> {
  for (const name of ["default", "elastic-ci-stack"]) {
    await copyFile(join(REPO_ROOT, "pods", `${name}.yaml`), join(dir, `${name}.yaml`));
  }
  const env = (name: string, value: string) => [
    `    - name: ${name}`,
    `      value: ${quoted(value)}`,
  ];
  await writeFile(
    join(dir, "docker-builds.yaml"),
    [
      "name: docker-builds",
      "extends: elastic-ci-stack",
      "access:",
      `  pipelines: [${quoted(options.pipeline)}]`,
      "agent:",
      "  env:",
      ...env("BUILDKITE_PLUGIN_S3_SECRETS_BUCKET", options.bucket),
      // The dockerd sidecar is the test kubelet's idle stand-in: no Docker engine answers,
      // so a `docker login` to ECR could not be made.
      ...env("BUILDKITE_ECR_POLICY", "none"),
      // The pod's AWS identity, as IRSA would give it: here moto and dummy keys.
      ...env("AWS_ENDPOINT_URL", options.endpoint),
      ...env("AWS_ACCESS_KEY_ID", "AKIDELASTICCISTACKPOD"),
      ...env("AWS_SECRET_ACCESS_KEY", "elastic-ci-stack-pod"),
      ...env("AWS_REGION", "us-east-1"),
      ...env("AWS_EC2_METADATA_DISABLED", "true"),
      // The image's /usr/local/bin/aws is testenv's pinned CLI; the kubelet runs the
      // agent with the host's PATH unless the pod gives one.
      ...env("PATH", `${dirname(options.awsBin)}:/usr/local/bin:/usr/bin:/bin`),
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "docker-builds-no-bucket.yaml"),
    [
      "name: docker-builds-no-bucket",
      "extends: docker-builds",
      "agent:",
      "  env:",
      ...env("BUILDKITE_PLUGIN_S3_SECRETS_BUCKET", options.missingBucket),
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "docker-builds-untolerated.yaml"),
    [
      "name: docker-builds-untolerated",
      "extends: docker-builds",
      "pod:",
      "  tolerations: null",
      "",
    ].join("\n"),
  );
}
