import { startTestControlPlane, ToolchainMissingError } from "@ondemand-eks/testenv";
import { describe, expect, it } from "vitest";

const noGo = { PATH: "/nonexistent", HOME: "/nonexistent" };

describe("startTestControlPlane without Go", () => {
  it("reports the control plane unavailable, with the reason, outside CI", async () => {
    const run = await startTestControlPlane("no-go", { env: noGo, log: () => {} });
    expect(run.info).toEqual({
      available: false,
      reason: expect.stringContaining("no usable `go` was found (`go` is not on PATH)"),
    });
    await run.teardown();
  });

  it("fails under CI=true, so integration tests can never be skipped there", async () => {
    await expect(
      startTestControlPlane("no-go", { env: { ...noGo, CI: "true" }, log: () => {} }),
    ).rejects.toThrow(ToolchainMissingError);
  });
});
