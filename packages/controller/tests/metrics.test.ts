import { createControllerMetrics } from "@ondemand-eks/controller";
import { createMetrics } from "@ondemand-eks/runtime/metrics";
import { describe, expect, it } from "vitest";

// The controller's /metrics is the scheduler's registry followed by this one (as
// `ondemand-eks controller` serves it): every family of ours prefixed, no gauge named
// like a counter, no family twice.

/** Each metric family's name and type, from the `# TYPE` lines of an exposition. */
function familiesOf(text: string): [string, string][] {
  return [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(
    (match) => [match[1], match[2]] as [string, string],
  );
}

describe("the controller's metrics", () => {
  it("are all prefixed; its gauges do not end in _total, its counters do", async () => {
    // Prepare: every metric given a value, so each shows its samples.
    const metrics = createControllerMetrics();
    metrics.jobs(new Map([["default", { running: 2, waiting: 1 }]]));
    metrics.failedToStart("image-pull");
    metrics.reconciled("default");
    metrics.cancelled("default");
    metrics.stacksRequest("scheduled-jobs", 200, 0.05);
    metrics.pass(true, 0.2);
    metrics.leader(true);
    metrics.poolReplicas(new Map([["linux-pool", 3]]));
    metrics.poolScaled("linux-pool", "out");
    metrics.queueMetricsRead("ok");
    // Act
    const families = familiesOf(await metrics.text());
    // Assess
    expect(families.length).toBe(13);
    for (const [name, type] of families) {
      expect(name).toMatch(/^ondemand_eks_/);
      if (type === "gauge") expect(name).not.toMatch(/_total$/);
      if (type === "counter") expect(name).toMatch(/_total$/);
    }
    expect(families).toContainEqual(["ondemand_eks_jobs_running", "gauge"]);
    expect(families).toContainEqual(["ondemand_eks_controller_leader", "gauge"]);
  });

  it("share no family name with the scheduler's, which they follow on /metrics", async () => {
    // Act
    const text = (await createMetrics().text()) + (await createControllerMetrics().text());
    // Assess
    const names = familiesOf(text).map(([name]) => name);
    expect(names).toContain("process_cpu_seconds_total");
    expect(names).toContain("ondemand_eks_build_info");
    expect(new Set(names).size).toBe(names.length);
  });
});
