import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLambda } from "@ondemand-eks/testenv";

/** The deployable function, as `npm run build` leaves it. */
export const BUNDLE_DIR = fileURLToPath(
  new URL("../../packages/adapter-lambda/dist/lambda", import.meta.url),
);

/** Size of the function's modules (index.mjs and its chunks), in bytes. */
export async function bundleBytes(): Promise<number> {
  let bytes = 0;
  for (const name of await readdir(BUNDLE_DIR)) {
    if (name.endsWith(".mjs")) bytes += (await stat(join(BUNDLE_DIR, name))).size;
  }
  return bytes;
}

/** How the function finds its cluster in each measured cold start. */
export interface ColdStartCluster {
  readonly kubeconfig: string;
  /** The API server's URL and CA (PEM), as a function configured for EKS is given them. */
  readonly endpoint: string;
  readonly caPem: string;
  /** moto, which plays EKS for DescribeCluster. */
  readonly motoEndpoint: string;
}

const AWS_TEST_ENV = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIDBENCH",
  AWS_SECRET_ACCESS_KEY: "bench",
};

/** Creates the EKS cluster "bench" in moto, for a function that looks its endpoint up. */
async function createMotoCluster(motoEndpoint: string): Promise<void> {
  const response = await fetch(`${motoEndpoint}/clusters`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      // moto reads the account and region from the credential scope; it checks no signature.
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/eks/aws4_request, SignedHeaders=host, Signature=0",
    },
    body: JSON.stringify({
      name: "bench",
      roleArn: "arn:aws:iam::123456789012:role/bench",
      resourcesVpcConfig: { subnetIds: [] },
    }),
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  if (!response.ok && response.status !== 409) {
    throw new Error(`moto refused to create the EKS cluster: HTTP ${response.status}`);
  }
}

/**
 * Cold starts under the Lambda Runtime Interface Emulator: the init duration it reports
 * (runtime start to its first request for an event), in turn for
 * - the bundle configured as deploy/lambda deploys it given ClusterEndpoint and
 *   ClusterCaData: an EKS cluster by name with its endpoint and CA (no AWS call at init;
 *   tokens are signed at the first event);
 * - the same without them, looking the cluster up with DescribeCluster (moto answers);
 * - the bundle given a kubeconfig, which loads @kubernetes/client-node to read it;
 * - an empty handler module, the floor our own runtime loop and Node set.
 */
export async function coldStarts(
  runs: number,
  cluster: ColdStartCluster,
): Promise<{ eks: number[]; describe: number[]; kubeconfig: number[]; empty: number[] }> {
  await createMotoCluster(cluster.motoEndpoint);
  const emptyDir = await mkdtemp(join(tmpdir(), "ondemand-eks-bench-empty-"));
  await writeFile(
    join(emptyDir, "index.mjs"),
    "export const sqs = async () => ({ batchItemFailures: [] });\n",
  );
  const sides = {
    eks: {
      dir: BUNDLE_DIR,
      env: {
        ONDEMAND_EKS_CLUSTER_NAME: "bench",
        ONDEMAND_EKS_CLUSTER_ENDPOINT: cluster.endpoint,
        ONDEMAND_EKS_CLUSTER_CA_DATA: Buffer.from(cluster.caPem).toString("base64"),
        ...AWS_TEST_ENV,
      },
    },
    describe: {
      dir: BUNDLE_DIR,
      env: {
        ONDEMAND_EKS_CLUSTER_NAME: "bench",
        AWS_ENDPOINT_URL_EKS: cluster.motoEndpoint,
        ...AWS_TEST_ENV,
      },
    },
    kubeconfig: { dir: BUNDLE_DIR, env: { ONDEMAND_EKS_KUBECONFIG: cluster.kubeconfig } },
    empty: { dir: emptyDir, env: {} },
  };
  const result = {
    eks: [] as number[],
    describe: [] as number[],
    kubeconfig: [] as number[],
    empty: [] as number[],
  };
  try {
    for (let run = 0; run < runs; run++) {
      for (const [side, { dir, env }] of Object.entries(sides) as [
        keyof typeof sides,
        (typeof sides)[keyof typeof sides],
      ][]) {
        const lambda = await startLambda(`bench-cold-${side}`, {
          handlerDir: dir,
          handler: "index.sqs",
          env,
        });
        try {
          const { status } = await lambda.invoke({ Records: [] });
          const init = lambda.initDurationMs();
          if (status !== 200 || init === undefined) {
            throw new Error(`cold start of ${side} failed:\n${lambda.logs()}`);
          }
          result[side].push(init);
        } finally {
          await lambda.stop();
        }
      }
    }
    return result;
  } finally {
    await rm(emptyDir, { recursive: true, force: true });
  }
}
