import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  BuildkiteAgentToolchainMissingError,
  ensureBuildkiteAgent,
  goVersion,
  REPO_ROOT,
  readBuildkiteAgentVersion,
  skipUnlessCi,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { describe, expect, it } from "vitest";

const execFileAsync = promisify(execFile);

// Built (or found in the cache) here, so that without Go the tests are reported as
// skipped (never under CI). A cold build takes minutes; loading a test file has no timeout.
const agent = await skipUnlessCi(() => ensureBuildkiteAgent());
const go = await skipUnlessCi(() => goVersion());
const run = (...args: string[]) => execFileAsync(agent.value as string, args);

describeWith(agent, "the real buildkite-agent, built from tools/buildkite-agent", () => {
  it("is the version pinned in tools/buildkite-agent/go.mod", async () => {
    // Prepare
    const pinned = (await readBuildkiteAgentVersion()).replace(/^v/, "");

    // Act
    const { stdout } = await run("--version");

    // Assess
    expect(pinned).toBe("3.137.0");
    expect(stdout).toContain(`buildkite-agent version ${pinned}`);
  });

  it("can be started for one given job (start --acquire-job)", async () => {
    const { stdout } = await run("start", "--help");
    expect(stdout).toContain("--acquire-job");
    expect(stdout).toContain("--endpoint");
  });
});

// Go itself too: a cached agent is found without it.
describeWith([agent, go], "the project's zzglob stand-in inside the agent", () => {
  it("is what the agent was built with, and passes its Go tests", async () => {
    // Prepare
    const standIn = join(REPO_ROOT, "tools", "buildkite-agent", "zzglob");

    // Act
    const built = await execFileAsync("go", ["version", "-m", agent.value as string]);
    const tests = await execFileAsync("go", ["test", "./..."], { cwd: standIn });

    // Assess
    expect(built.stdout).toMatch(/dep\s+drjosh\.dev\/zzglob\s+\S+\n\s+=>\s+\.\/zzglob\s/);
    expect(tests.stdout).toMatch(/^ok\s+drjosh\.dev\/zzglob/m);
  }, 120_000);
});

describe("buildkite-agent without Go, and nothing cached", () => {
  const noGo = async (extra: NodeJS.ProcessEnv) => {
    const cache = await mkdtemp(join(tmpdir(), "buildkite-agent-cache-"));
    const env = { PATH: "/nonexistent", HOME: cache, ONDEMAND_EKS_CACHE_DIR: cache, ...extra };
    try {
      return await skipUnlessCi(() => ensureBuildkiteAgent({ env }), env);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  };

  it("is skipped, with the reason, outside CI", async () => {
    const result = await noGo({});
    expect(result.available).toBe(false);
    expect(result.reason).toContain("buildkite-agent");
    expect(result.reason).toContain("no usable `go` was found (`go` is not on PATH)");
  });

  it("fails under CI=true, so real-agent tests can never be skipped there", async () => {
    await expect(noGo({ CI: "true" })).rejects.toThrow(BuildkiteAgentToolchainMissingError);
  });
});
