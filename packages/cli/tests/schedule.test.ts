import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { describeWithCluster, getJobStatus, jobExists, kubeconfigPath } from "./cluster.js";
import { cli, sample, tempDir } from "./helpers.js";

/** The sample event with a fresh job UUID, written to a file. */
interface SampleEvent {
  detail: { job: { uuid: string; agent_query_rules: string[] } };
}

function eventFile(edit: (event: SampleEvent) => void = () => {}) {
  const event = sample() as unknown as SampleEvent;
  event.detail.job.uuid = randomUUID();
  edit(event);
  const dir = tempDir({ "event.json": JSON.stringify(event) });
  return {
    path: join(dir, "event.json"),
    uuid: event.detail.job.uuid,
    name: `buildkite-${event.detail.job.uuid}`,
  };
}

/** A kubeconfig of the test cluster whose server cannot be reached. */
function unreachableKubeconfig(): string {
  const config = JSON.parse(readFileSync(kubeconfigPath(), "utf8"));
  config.clusters[0].cluster.server = "https://127.0.0.1:1";
  const path = join(tempDir(), "kubeconfig");
  writeFileSync(path, JSON.stringify(config));
  return path;
}

describeWithCluster("ondemand-eks schedule", () => {
  it("creates the Job, then finds it on the second run", async () => {
    const event = eventFile();
    const args = ["schedule", "--event", event.path, "--kubeconfig", kubeconfigPath()];
    const first = await cli(args);
    expect(first).toMatchObject({ status: 0, stderr: "" });
    expect(first.stdout).toBe(`created: Job buildkite/${event.name}\n`);
    expect(await jobExists(event.name)).toBe(true);
    const second = await cli(args);
    expect(second.stdout).toBe(`exists: Job buildkite/${event.name} was already there\n`);
    expect(second.status).toBe(0);
  });

  it("reads the event from stdin and takes the kubeconfig from $KUBECONFIG", async () => {
    const event = eventFile();
    const result = await cli(["schedule", "--event", "-", "-o", "json"], {
      stdin: readFileSync(event.path, "utf8"),
      env: { KUBECONFIG: kubeconfigPath() },
    });
    expect(result).toMatchObject({ status: 0, stderr: "" });
    const outcome = JSON.parse(result.stdout);
    expect(outcome).toEqual({
      outcome: "created",
      job: event.uuid,
      name: event.name,
      namespace: "buildkite",
      queue: "default",
      podDefinition: "node-postgres",
      attempts: 1,
    });
  });

  it("stores nothing with --dry-run: the outcome is dry-run, never created", async () => {
    // Act
    const event = eventFile();
    const result = await cli([
      "schedule",
      "--event",
      event.path,
      "--kubeconfig",
      kubeconfigPath(),
      "--dry-run",
    ]);

    // Assess
    expect(result).toEqual({
      status: 0,
      stdout: `dry-run: Job buildkite/${event.name} would be created (nothing stored)\n`,
      stderr: "",
    });
    expect(await getJobStatus(event.name)).toBe(404);
  });

  it("prints the dry-run outcome as JSON, without durationMs, with -o json", async () => {
    // Act
    const event = eventFile();
    const args = ["schedule", "--event", event.path, "--kubeconfig", kubeconfigPath()];
    const result = await cli([...args, "--dry-run", "-o", "json"]);

    // Assess
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
    expect(result.stdout.endsWith("}\n")).toBe(true);
    expect(JSON.parse(result.stdout)).toEqual({
      outcome: "dry-run",
      result: "created",
      job: event.uuid,
      name: event.name,
      namespace: "buildkite",
      queue: "default",
      podDefinition: "node-postgres",
      attempts: 1,
    });
    expect(await getJobStatus(event.name)).toBe(404);
  });

  it("dry-runs from ONDEMAND_EKS_DRY_RUN, and says when the Job is already there", async () => {
    // Prepare: the Job exists.
    const event = eventFile();
    const args = ["schedule", "--event", event.path, "--kubeconfig", kubeconfigPath()];
    expect((await cli(args)).status).toBe(0);

    // Act
    const result = await cli(args, { env: { ONDEMAND_EKS_DRY_RUN: "true" } });
    const json = await cli([...args, "-o", "json"], { env: { ONDEMAND_EKS_DRY_RUN: "1" } });

    // Assess
    expect(result).toEqual({
      status: 0,
      stdout: `dry-run: Job buildkite/${event.name} is already there (nothing stored)\n`,
      stderr: "",
    });
    expect(JSON.parse(json.stdout)).toMatchObject({ outcome: "dry-run", result: "exists" });
  });

  it("submits nothing for an event that is not for us", async () => {
    const event = eventFile((e) => {
      e.detail.job.agent_query_rules = ["queue=elsewhere"];
    });
    const result = await cli(["schedule", "--event", event.path, "--kubeconfig", kubeconfigPath()]);
    expect(result).toEqual({
      status: 0,
      stdout: "",
      stderr: 'ondemand-eks: not for us: queue "elsewhere" is not served here (serving: default)\n',
    });
    expect(await jobExists(event.name)).toBe(false);
    const json = await cli([
      "schedule",
      "--event",
      event.path,
      "--kubeconfig",
      kubeconfigPath(),
      "-o",
      "json",
    ]);
    expect(JSON.parse(json.stdout)).toEqual({
      outcome: "ignored",
      job: event.uuid,
      reason: 'queue "elsewhere" is not served here (serving: default)',
    });
  });

  it("exits 1 for an invalid event, and prints its outcome on stderr", async () => {
    const event = eventFile((e) => {
      e.detail.job.agent_query_rules = ["queue=default", "pod=gpu"];
    });
    const result = await cli(["schedule", "--event", event.path, "--kubeconfig", kubeconfigPath()]);
    expect(result).toEqual({
      status: 1,
      stdout: "",
      stderr:
        'ondemand-eks: invalid: no pod definition named "gpu" (known: default, elastic-ci-stack, fargate, linux-pool, node-postgres)\n',
    });
    expect(await jobExists(event.name)).toBe(false);
  });

  it("exits 1 with the server's reason when the API server refuses the Job", async () => {
    const event = eventFile();
    const result = await cli([
      "schedule",
      "--event",
      event.path,
      "--kubeconfig",
      kubeconfigPath(),
      "--namespace",
      "no-such-namespace",
    ]);
    expect(result).toEqual({
      status: 1,
      stdout: "",
      stderr:
        'ondemand-eks: invalid: the API server refused the Job: 404 NotFound: namespaces "no-such-namespace" not found\n',
    });
  });

  it("exits 3 when the API server cannot be reached before --timeout", async () => {
    const event = eventFile();
    const result = await cli([
      "schedule",
      "--event",
      event.path,
      "--kubeconfig",
      unreachableKubeconfig(),
      "--timeout",
      "1",
    ]);
    expect(result.status).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      /^ondemand-eks: failed: the API server could not be reached: no success within 1000 ms: .*ECONNREFUSED.*\n$/,
    );
  });

  it("takes the deadline from ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS, below --timeout", async () => {
    // Prepare
    const event = eventFile();
    const args = ["schedule", "--event", event.path, "--kubeconfig", unreachableKubeconfig()];

    // Act
    const fromEnv = await cli([...args, "-o", "json"], {
      env: { ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "0.5" },
    });
    const fromFlag = await cli([...args, "--timeout", "0.3"], {
      env: { ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "0.5" },
    });

    // Assess
    expect(fromEnv.status).toBe(3);
    expect(fromEnv.stderr).toContain("no success within 500 ms");
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({
      outcome: "failed",
      job: event.uuid,
      reason: expect.stringContaining("no success within 500 ms"),
    });
    expect(fromFlag.status).toBe(3);
    expect(fromFlag.stderr).toContain("no success within 300 ms");
    const bad = await cli(args, { env: { ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "soon" } });
    expect(bad).toMatchObject({
      status: 1,
      stderr:
        'ondemand-eks: error: ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: expected seconds from 0.1 to 3600, received "soon"\n',
    });
  });

  it("refuses a bad --timeout and --in-cluster outside a pod", async () => {
    const event = eventFile();
    const bad = await cli(["schedule", "--event", event.path, "--timeout", "soon"]);
    // A flag's value that does not parse is a usage error.
    expect(bad).toMatchObject({ status: 2 });
    expect(bad.stderr).toContain('--timeout: expected seconds from 0.1 to 3600, received "soon"');
    const outside = await cli(["schedule", "--event", event.path, "--in-cluster"], { env: {} });
    expect(outside.status).toBe(1);
    expect(outside.stderr).toContain("not running in a Kubernetes pod");
  });
});

describeWithCluster("ondemand-eks validate --server", () => {
  it("has the API server accept every bundled pod definition", async () => {
    const result = await cli(["validate", "--server", "--kubeconfig", kubeconfigPath()]);
    expect(result).toMatchObject({ status: 0, stderr: "" });
    for (const name of ["default", "elastic-ci-stack", "fargate", "node-postgres"]) {
      expect(result.stdout).toMatch(
        new RegExp(`^${name}: accepted by https://127\\.0\\.0\\.1:\\d+ \\(Job, dry run\\)$`, "m"),
      );
    }
    expect(result.stdout).toMatch(/^linux-pool: accepted by .* \(Deployment, dry run\)$/m);
  });

  it("reports the server's answers in the JSON report", async () => {
    // Act
    const result = await cli([
      "validate",
      "--server",
      "--kubeconfig",
      kubeconfigPath(),
      "--output",
      "json",
    ]);

    // Assess
    expect(result).toMatchObject({ status: 0, stderr: "" });
    const report = JSON.parse(result.stdout);
    expect(report.valid).toBe(true);
    expect(report.server).toContainEqual({
      definition: "linux-pool",
      kind: "Deployment",
      outcome: "accepted",
      message: expect.stringMatching(
        /^accepted by https:\/\/127\.0\.0\.1:\d+ \(Deployment, dry run\)$/,
      ),
    });
    expect(report.server).toHaveLength(report.definitions.length);
  });

  it("names a definition the server refuses, with the server's message", async () => {
    const library = tempDir({
      "default.yaml": readFileSync(new URL("../../../pods/default.yaml", import.meta.url), "utf8"),
      "broken.yaml": [
        "name: broken",
        "agent:",
        "  image: buildkite/agent:3",
        "pod:",
        "  nodeSelector:",
        '    "not a valid key!": x',
        "",
      ].join("\n"),
    });
    const result = await cli([
      "validate",
      "--server",
      "--library",
      library,
      "--kubeconfig",
      kubeconfigPath(),
    ]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^default: accepted/m);
    expect(result.stderr).toMatch(
      /^broken: rejected: Job buildkite\/buildkite-0{8}-0000-4000-8000-0{12}: 422 Invalid: .*spec\.template\.spec\.nodeSelector: Invalid value: "not a valid key!"/m,
    );
  });
});
