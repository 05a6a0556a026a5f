import { PrerequisiteMissingError, PythonMissingError, skipUnlessCi } from "@ondemand-eks/testenv";
import { describe, expect, it } from "vitest";
import { skipReason } from "../src/prerequisites.js";

const missing = () => Promise.reject(new PythonMissingError("moto", "python3: not found"));
const REASON =
  "moto is installed with Python 3 and its venv module, and none was usable (python3: not found)";

describe("skipUnlessCi", () => {
  it("gives what it got when the prerequisite is there", async () => {
    expect(await skipUnlessCi(async () => "go1.26", {})).toEqual({
      available: true,
      value: "go1.26",
    });
  });

  it("turns a missing prerequisite into the reason to skip, outside CI", async () => {
    expect(await skipUnlessCi(missing, { CI: "false" })).toEqual({
      available: false,
      reason: REASON,
    });
  });

  it("throws a missing prerequisite under CI=true, so nothing is skipped there", async () => {
    await expect(skipUnlessCi(missing, { CI: "true" })).rejects.toThrow(PythonMissingError);
  });

  it("throws any other error, in CI or not", async () => {
    const broken = () => Promise.reject(new Error("moto exited while starting"));
    await expect(skipUnlessCi(broken, {})).rejects.toThrow("moto exited while starting");
  });
});

describe("skipReason", () => {
  const there = { available: true, value: 1 } as const;
  const gone = (reason: string) => ({ available: false, reason }) as const;

  it("is undefined when every prerequisite is there", () => {
    expect(skipReason([there, there], {})).toBeUndefined();
  });

  it("is the first missing prerequisite's reason", () => {
    expect(skipReason([there, gone("no Go"), gone("no Python")], {})).toBe("no Go");
  });

  it("is an error under CI=true", () => {
    expect(() => skipReason([there, gone("no Python")], { CI: "true" })).toThrow(
      new PrerequisiteMissingError("no Python (nothing is skipped under CI=true)"),
    );
  });
});
