import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { expect, it } from "vitest";
import { describeWithCluster, kubeconfigPath } from "./cluster.js";
import { tempDir } from "./helpers.js";

// `ondemand-eks reconcile deployments`, the built executable run as a user runs it (see
// bin.test.ts), against the test control plane's API server. Each test works in a
// namespace of its own: the command deletes our pool Deployments it finds there whose
// definition is gone.

const BIN = new URL("../dist/bin.js", import.meta.url).pathname;
const DEFAULT_POD = readFileSync(new URL("../../../pods/default.yaml", import.meta.url), "utf8");

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ondemand-eks reconcile deployments ARGS` to its end. */
function reconcile(args: readonly string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "reconcile", "deployments", ...args], {
      env: { PATH: process.env.PATH ?? "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

function clients(): { apps: AppsV1Api; core: CoreV1Api } {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath());
  return { apps: config.makeApiClient(AppsV1Api), core: config.makeApiClient(CoreV1Api) };
}

/** A new namespace for one test; its name. */
async function namespace(): Promise<string> {
  const name = `pools-${randomBytes(4).toString("hex")}`;
  await clients().core.createNamespace({ body: { metadata: { name } } });
  return name;
}

/** A long-polling definition `pool` on queue `pool-queue`, with `replicas`. */
function poolYaml(replicas: number): string {
  return [
    "name: pool",
    "extends: default",
    "mode: long-polling",
    "longPolling:",
    "  queue: pool-queue",
    `  replicas: ${replicas}`,
    "",
  ].join("\n");
}

/** A library directory: the default definition, and `pool` when given its replicas. */
function library(replicas?: number): string {
  return tempDir({
    "default.yaml": DEFAULT_POD,
    ...(replicas === undefined ? {} : { "pool.yaml": poolYaml(replicas) }),
  });
}

/** The flags every run takes: the library, the cluster, and the namespace for both kinds. */
function flags(dir: string, ns: string): string[] {
  return [
    "--library",
    dir,
    "--kubeconfig",
    kubeconfigPath(),
    "--namespace",
    ns,
    "--privileged-namespace",
    ns,
  ];
}

const NAME = "buildkite-agents-pool";

/** The stored Deployment, or undefined when there is none. */
async function stored(ns: string) {
  try {
    return await clients().apps.readNamespacedDeployment({ name: NAME, namespace: ns });
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw error;
  }
}

describeWithCluster("ondemand-eks reconcile deployments", () => {
  it("creates a long-polling definition's Deployment, then finds nothing to change", async () => {
    // Prepare
    const ns = await namespace();
    const args = flags(library(2), ns);

    // Act
    const first = await reconcile(args);
    const second = await reconcile(args);

    // Assess
    expect(first).toEqual({
      status: 0,
      stdout: `created pool (${ns}/${NAME}, 2 replicas)\n`,
      stderr: "",
    });
    const deployment = await stored(ns);
    expect(deployment?.spec?.replicas).toBe(2);
    expect(deployment?.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBe("ondemand-eks");
    expect(second).toEqual({ status: 0, stdout: `unchanged pool (${ns}/${NAME})\n`, stderr: "" });
    expect((await stored(ns))?.metadata?.generation).toBe(deployment?.metadata?.generation);
  });

  it("updates the Deployment when its definition changes", async () => {
    // Prepare
    const ns = await namespace();
    expect((await reconcile(flags(library(2), ns))).status).toBe(0);

    // Act
    const edited = await reconcile(flags(library(3), ns));

    // Assess
    expect(edited).toEqual({
      status: 0,
      stdout: `updated pool (${ns}/${NAME}, 3 replicas)\n`,
      stderr: "",
    });
    expect((await stored(ns))?.spec?.replicas).toBe(3);
  });

  it("with --dry-run, says what it would do and changes nothing", async () => {
    // Prepare
    const ns = await namespace();

    // Act
    const create = await reconcile([...flags(library(2), ns), "--dry-run"]);
    const afterCreate = await stored(ns);
    expect((await reconcile(flags(library(2), ns))).status).toBe(0);
    const before = await stored(ns);
    const update = await reconcile([...flags(library(5), ns), "--dry-run"]);
    const remove = await reconcile([...flags(library(), ns), "--dry-run"]);

    // Assess
    expect(create).toEqual({
      status: 0,
      stdout: `would create pool (${ns}/${NAME}, 2 replicas)\n`,
      stderr: "",
    });
    expect(afterCreate).toBeUndefined();
    expect(update).toEqual({
      status: 0,
      stdout: `would update pool (${ns}/${NAME}, 5 replicas)\n`,
      stderr: "",
    });
    expect(remove).toEqual({
      status: 0,
      stdout: `would delete pool (${ns}/${NAME})\n`,
      stderr: "",
    });
    // The spec as it was (the Deployment controller may have written its status since).
    const after = await stored(ns);
    expect(after?.spec?.replicas).toBe(2);
    expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
  });

  it("with --output json, prints the changes as one object", async () => {
    // Prepare
    const ns = await namespace();

    // Act
    const result = await reconcile([...flags(library(2), ns), "--output", "json"]);

    // Assess
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      changes: [{ definition: "pool", name: NAME, namespace: ns, action: "create", replicas: 2 }],
    });
  });

  it("leaves a Deployment of that name it did not make alone, says why, and exits 1", async () => {
    // Prepare: someone else's Deployment, with the pool's name and no managed-by label.
    const ns = await namespace();
    const labels = { app: "theirs" };
    await clients().apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: NAME, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: "main", image: "busybox:1" }] },
          },
        },
      },
    });
    const before = await stored(ns);

    // Act
    const text = await reconcile(flags(library(2), ns));
    const json = await reconcile([...flags(library(2), ns), "--output", "json"]);

    // Assess
    expect(text.status).toBe(1);
    expect(text.stdout).toBe("");
    const [line, summary] = text.stderr.trimEnd().split("\n");
    expect(line).toMatch(
      new RegExp(
        `^left alone pool \\(${ns}/${NAME}\\): .*without the label app\\.kubernetes\\.io/managed-by=ondemand-eks`,
      ),
    );
    expect(summary).toBe(
      "ondemand-eks: 1 pool not reconciled: an object we did not make has its name, and is left alone",
    );
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout).changes).toEqual([
      expect.objectContaining({
        definition: "pool",
        action: "unmanaged",
        message: expect.any(String),
      }),
    ]);
    // Its spec and metadata as they were (the Deployment controller may update its status),
    // and no field of ours.
    const after = await stored(ns);
    expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
    expect(after?.metadata?.managedFields?.map((entry) => entry.manager)).not.toContain(
      "ondemand-eks",
    );
    // Our annotation never appears (the Deployment controller adds its own revision).
    expect(after?.metadata?.annotations?.["ondemand-eks.io/pod-definition-hash"]).toBeUndefined();
    expect(after?.metadata?.labels).toEqual(labels);
    expect(after?.spec?.template?.spec?.containers?.[0]?.image).toBe("busybox:1");
  });

  it("deletes the Deployment of a definition removed from the library", async () => {
    // Prepare
    const ns = await namespace();
    expect(await reconcile(flags(library(2), ns))).toMatchObject({ status: 0, stderr: "" });

    // Act
    const removed = await reconcile(flags(library(), ns));

    // Assess
    expect(removed).toEqual({ status: 0, stdout: `deleted pool (${ns}/${NAME})\n`, stderr: "" });
    expect(await stored(ns)).toBeUndefined();
  });

  it("exits 3 when the API server cannot be reached, 2 on a usage error", async () => {
    // Prepare: the test cluster's kubeconfig, pointed at a port nothing listens on.
    const config = JSON.parse(readFileSync(kubeconfigPath(), "utf8"));
    config.clusters[0].cluster.server = "https://127.0.0.1:1";
    const unreachable = join(tempDir(), "kubeconfig");
    writeFileSync(unreachable, JSON.stringify(config));
    const dir = library(2);

    // Act
    const down = await reconcile([
      "--library",
      dir,
      "--kubeconfig",
      unreachable,
      "--timeout",
      "0.5",
    ]);
    const usage = await reconcile(["--library", dir, "--output", "yaml"]);

    // Assess
    expect(down).toEqual({
      status: 3,
      stdout: "",
      stderr: expect.stringMatching(/^ondemand-eks: .*no success within 500 ms.*ECONNREFUSED/),
    });
    expect(usage).toMatchObject({ status: 2, stdout: "" });
  });
});
