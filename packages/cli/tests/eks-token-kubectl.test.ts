import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { ensureBinaries } from "@ondemand-eks/testenv";
import { beforeAll, expect, it } from "vitest";
import { describeWithCluster, kubeconfigPath } from "./cluster.js";
import { LAUNCHER, tempDir } from "./helpers.js";

// Fake static credentials: the token is signed, never checked by AWS. The control plane
// does not know EKS tokens, so a request that gets as far as the API server is refused
// with 401: that is kubectl having accepted the plugin's answer.
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: "AKIDKUBECTLTEST",
  AWS_SECRET_ACCESS_KEY: "kubectl-secret",
};

const V1 = "client.authentication.k8s.io/v1";
const V1BETA1 = "client.authentication.k8s.io/v1beta1";

let kubectl = "";
beforeAll(async () => {
  // Built with the control plane (tools/k8s): the kubectl of the Kubernetes we test with.
  ({ kubectl } = await ensureBinaries(() => {}));
});

/** A kubeconfig for the test control plane whose user is the exec plugin `command args`. */
function kubeconfigWithPlugin(apiVersion: string, command: string, args: string[]): string {
  const admin = new KubeConfig();
  admin.loadFromFile(kubeconfigPath());
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error("the test kubeconfig has no current cluster");
  const path = join(tempDir(), "kubeconfig");
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "eks",
          cluster: {
            server: cluster.server,
            ...(cluster.caData ? { "certificate-authority-data": cluster.caData } : {}),
            ...(cluster.caFile ? { "certificate-authority": cluster.caFile } : {}),
          },
        },
      ],
      users: [
        {
          name: "iam",
          user: {
            exec: {
              apiVersion,
              command,
              args,
              env: Object.entries(AWS_ENV).map(([name, value]) => ({ name, value })),
              interactiveMode: "Never",
            },
          },
        },
      ],
      contexts: [{ name: "eks", context: { cluster: "eks", user: "iam" } }],
      "current-context": "eks",
    }),
  );
  return path;
}

function kubectlGet(kubeconfig: string) {
  return spawnSync(kubectl, ["--kubeconfig", kubeconfig, "get", "--raw", "/api"], {
    encoding: "utf8",
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? "", HOME: tempDir() },
  });
}

describeWithCluster("kubectl with ondemand-eks eks-token as its exec credential plugin", () => {
  it.each([V1, V1BETA1])("takes the answer to a kubeconfig of %s", (apiVersion) => {
    // Prepare
    const kubeconfig = kubeconfigWithPlugin(apiVersion, process.execPath, [
      LAUNCHER,
      "eks-token",
      "--cluster-name",
      "X",
      "--region",
      "us-east-1",
    ]);

    // Act
    const result = kubectlGet(kubeconfig);

    // Assess: the API server refused the token, so kubectl sent it.
    expect(result.stderr).not.toMatch(/exec plugin|getting credentials/);
    expect(result.stderr).toMatch(/Unauthorized|provide credentials/);
    expect(result.status).toBe(1);
  });

  it("refuses an answer in another apiVersion (what the test above would catch)", () => {
    // Prepare: a plugin that always answers v1beta1, as eks-token did before.
    const answer = JSON.stringify({
      kind: "ExecCredential",
      apiVersion: V1BETA1,
      status: { token: "k8s-aws-v1.x" },
    });
    const kubeconfig = kubeconfigWithPlugin(V1, process.execPath, [
      "-e",
      `process.stdout.write(${JSON.stringify(answer)})`,
    ]);

    // Act
    const result = kubectlGet(kubeconfig);

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/exec plugin/);
    expect(result.stderr).not.toMatch(/Unauthorized/);
  });
});
