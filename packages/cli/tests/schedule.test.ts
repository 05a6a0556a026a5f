import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { describeWithCluster, jobExists, kubeconfigPath } from "./cluster.js";
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
  return { path: join(dir, "event.json"), name: `buildkite-${event.detail.job.uuid}` };
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
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      outcome: "created",
      name: event.name,
      namespace: "buildkite",
      podDefinition: "node-postgres",
      dryRun: false,
    });
  });

  it("stores nothing with --dry-run", async () => {
    const event = eventFile();
    const result = await cli([
      "schedule",
      "--event",
      event.path,
      "--kubeconfig",
      kubeconfigPath(),
      "--dry-run",
    ]);
    expect(result.stdout).toBe(`created: Job buildkite/${event.name} (dry run: nothing stored)\n`);
    expect(await jobExists(event.name)).toBe(false);
  });

  it("submits nothing for an event that is not for us", async () => {
    const event = eventFile((e) => {
      e.detail.job.agent_query_rules = ["queue=elsewhere"];
    });
    const result = await cli(["schedule", "--event", event.path, "--kubeconfig", kubeconfigPath()]);
    expect(result).toMatchObject({ status: 0, stdout: "" });
    expect(result.stderr).toContain("not for us");
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
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `ondemand-eks: rejected: Job no-such-namespace/${event.name}: 404 NotFound: namespaces "no-such-namespace" not found`,
    );
  });

  it("exits 3 when the API server cannot be reached before --timeout", async () => {
    const event = eventFile();
    const config = JSON.parse(readFileSync(kubeconfigPath(), "utf8"));
    config.clusters[0].cluster.server = "https://127.0.0.1:1";
    const dir = tempDir();
    writeFileSync(join(dir, "kubeconfig"), JSON.stringify(config));
    const result = await cli([
      "schedule",
      "--event",
      event.path,
      "--kubeconfig",
      join(dir, "kubeconfig"),
      "--timeout",
      "1",
    ]);
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/unavailable: .* no success within 1000 ms: .*ECONNREFUSED/);
  });

  it("refuses a bad --timeout and --in-cluster outside a pod", async () => {
    const event = eventFile();
    const bad = await cli(["schedule", "--event", event.path, "--timeout", "soon"]);
    expect(bad).toMatchObject({ status: 1 });
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
    for (const name of ["default", "elastic-ci-stack", "node-postgres"]) {
      expect(result.stdout).toMatch(
        new RegExp(`^${name}: accepted by https://127\\.0\\.0\\.1:\\d+ \\(Job, dry run\\)$`, "m"),
      );
    }
    expect(result.stdout).toMatch(/^linux-pool: accepted by .* \(Deployment, dry run\)$/m);
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
