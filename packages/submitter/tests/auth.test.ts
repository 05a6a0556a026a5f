import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasErrorCode } from "@ondemand-eks/core";
import { ClusterAuthError, inClusterAuth, kubeconfigAuth } from "@ondemand-eks/submitter";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ondemand-eks-auth-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster: { server: "https://10.1.2.3:6443/", insecure-skip-tls-verify: true }
users:
  - name: u
    user: { token: "s3cret-token" }
contexts:
  - name: one
    context: { cluster: c, user: u }
current-context: one
`;

describe("kubeconfigAuth", () => {
  it("takes the server, TLS settings and bearer token from the current context", async () => {
    const path = join(dir, "kubeconfig");
    await writeFile(path, KUBECONFIG);
    const auth = await kubeconfigAuth({ path });
    expect(auth.server).toBe("https://10.1.2.3:6443");
    expect(auth.tls.rejectUnauthorized).toBe(false);
    expect(await auth.headers()).toEqual({ Authorization: "Bearer s3cret-token" });
    expect(auth.description).toContain('context "one"');
    expect(auth.description).not.toContain("s3cret");
  });

  it("names a missing file", async () => {
    const path = join(dir, "nope");
    const error = await kubeconfigAuth({ path }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClusterAuthError);
    expect(hasErrorCode(error, "INVALID_CLUSTER_CONFIG")).toBe(true);
    expect(error).toMatchObject({ name: "ClusterAuthError" });
    expect((error as Error).message).toContain(`cannot read kubeconfig ${path}`);
  });

  it("names an unknown context and lists the known ones", async () => {
    const path = join(dir, "kubeconfig");
    await writeFile(path, KUBECONFIG);
    await expect(kubeconfigAuth({ path, context: "two" })).rejects.toThrow(
      'has no context "two" (it has: one)',
    );
  });
});

describe("inClusterAuth", () => {
  it("explains that it needs to run in a pod", async () => {
    await expect(inClusterAuth({ env: {} })).rejects.toMatchObject({
      code: "INVALID_CLUSTER_CONFIG",
      message:
        "not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set, and no server was given",
    });
  });

  it("builds the server from the service environment and re-reads a changed token a minute on", async () => {
    const tokenPath = join(dir, "token");
    const caPath = join(dir, "ca.crt");
    await writeFile(tokenPath, "first\n");
    await writeFile(caPath, "not checked here");
    const env = { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" };
    let clock = 1_000;
    const auth = await inClusterAuth({ tokenPath, caPath, env, now: () => clock });
    expect(auth.server).toBe("https://[fd00::1]:443");
    expect(await auth.headers()).toEqual({ Authorization: "Bearer first" });
    await writeFile(tokenPath, "second-token\n");
    // Within the minute the token read last is used; the file is not looked at.
    clock += 59_999;
    expect(await auth.headers()).toEqual({ Authorization: "Bearer first" });
    clock += 1;
    expect(await auth.headers()).toEqual({ Authorization: "Bearer second-token" });
    expect(await auth.refresh?.()).toBe(false);
  });

  it("re-reads the token at once when refreshed after a 401", async () => {
    const tokenPath = join(dir, "token");
    const caPath = join(dir, "ca.crt");
    await writeFile(tokenPath, "first\n");
    await writeFile(caPath, "x");
    const auth = await inClusterAuth({ tokenPath, caPath, server: "https://x", now: () => 0 });
    await writeFile(tokenPath, "rotated\n");
    expect(await auth.headers()).toEqual({ Authorization: "Bearer first" });
    expect(await auth.refresh?.()).toBe(true);
    expect(await auth.headers()).toEqual({ Authorization: "Bearer rotated" });
  });

  it("names a missing token file", async () => {
    const caPath = join(dir, "ca.crt");
    await writeFile(caPath, "x");
    await expect(
      inClusterAuth({ tokenPath: join(dir, "missing"), caPath, server: "https://x" }),
    ).rejects.toThrow(`cannot read the ServiceAccount token at ${join(dir, "missing")}`);
  });
});

describe("kubeconfig errors never show a secret", () => {
  it("reports a YAML syntax error without the lines around it", async () => {
    const path = join(dir, "broken");
    await writeFile(
      path,
      [
        "apiVersion: v1",
        "users:",
        "  - name: u",
        "    user:",
        "      token: SECRET-TOKEN-abc123",
        "     bad: indentation",
        "",
      ].join("\n"),
    );
    const error = (await kubeconfigAuth({ path }).then(
      () => new Error("no error"),
      (caught: unknown) => caught,
    )) as Error;
    expect(error).toBeInstanceOf(ClusterAuthError);
    expect(error.message).toContain(`cannot read kubeconfig ${path}`);
    expect(error.message).not.toContain("SECRET");
  });

  it("keeps impersonation from the kubeconfig's as:", async () => {
    const path = join(dir, "impersonating");
    await writeFile(
      path,
      KUBECONFIG.replace(
        'user: { token: "s3cret-token" }',
        'user: { token: "t", as: "scheduler" }',
      ),
    );
    const auth = await kubeconfigAuth({ path });
    expect(await auth.headers()).toEqual({
      Authorization: "Bearer t",
      "Impersonate-User": "scheduler",
    });
  });

  it("says so when there is no kubeconfig at all", async () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
    process.env.KUBECONFIG = "";
    process.env.HOME = dir;
    try {
      await expect(kubeconfigAuth()).rejects.toThrow(
        `no kubeconfig found: no path was given, $KUBECONFIG names no file, there is no ${join(dir, ".kube", "config")}`,
      );
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
