import { describe, expect, it } from "vitest";
import {
  type ControllerResults,
  controllerRows,
  controllerSize,
  controllerTargets,
  listPages,
} from "../src/controller-stats.js";

const quiet = (kubeCalls: number) => ({
  pass: { seconds: 0.4, stacks_calls: 101, kube_calls: kubeCalls },
  bareListSeconds: 0.2,
});

describe("listPages", () => {
  it("counts a page of Jobs per 500 and a page of pods per namespace, at least one each", () => {
    // Act, Assess
    expect(listPages([10_000, 0])).toBe(20 + 1 + 1 + 1);
    expect(listPages([500, 501])).toBe(1 + 1 + 2 + 1);
  });
});

describe("controllerTargets", () => {
  it("meets the call targets when a quiet pass costs only its list pages", () => {
    // Prepare
    const first = { seconds: 20, stacks_calls: 210, kube_calls: 10_004, jobsCreated: 10_000 };
    const size = controllerSize(10_000, first, [quiet(23), quiet(23)], 23);
    const results: ControllerResults = {
      sizes: [size],
      namespaces: ["buildkite", "buildkite-privileged"],
      rounds: 2,
      process: { jobs: 10_000, passes: 3, rss_mb: 199, auth: "kubeconfig" },
    };

    // Act
    const checks = controllerTargets(results);

    // Assess
    expect(size.second_pass.ratio_to_bare_list.median).toBe(2);
    expect(size.first_pass.kube_calls_beyond_creates).toBe(4);
    expect(checks.every((t) => t.met)).toBe(true);
  });

  it("misses when a quiet pass calls Kubernetes per Job, or the process reaches 200 MB", () => {
    // Prepare
    const first = { seconds: 20, stacks_calls: 210, kube_calls: 10_004, jobsCreated: 10_000 };
    const results: ControllerResults = {
      sizes: [controllerSize(10_000, first, [quiet(10_023)], 23)],
      namespaces: ["buildkite"],
      rounds: 1,
      process: { jobs: 10_000, passes: 3, rss_mb: 200, auth: "kubeconfig" },
    };

    // Act
    const missed = controllerTargets(results).filter((t) => !t.met);

    // Assess
    expect(missed.map((t) => t.key)).toEqual([
      "controller.10000.second_pass.kube_calls",
      "controller.process.rss_mb",
    ]);
  });
});

describe("controllerRows", () => {
  it("judges the process as deployed and shows the kubeconfig's figure beside it", () => {
    // Prepare
    const first = { seconds: 20, stacks_calls: 210, kube_calls: 10_004, jobsCreated: 10_000 };
    const results: ControllerResults = {
      sizes: [controllerSize(10_000, first, [quiet(23)], 23)],
      namespaces: ["buildkite"],
      rounds: 1,
      process: {
        jobs: 10_000,
        passes: 3,
        rss_mb: 163.2,
        auth: "in-cluster",
        kubeconfig_rss_mb: 205,
      },
    };

    // Act
    const rows = Object.fromEntries(controllerRows(results));
    const rss = controllerTargets(results).find((t) => t.key === "controller.process.rss_mb");

    // Assess
    expect(rows["controller.process.rss_mb"]).toBe("163 (10000 Jobs, 3 passes, in-cluster)");
    expect(rows["controller.process.kubeconfig_rss_mb"]).toBe("205");
    expect(rss).toMatchObject({ value: 163.2, met: true });
  });
});
