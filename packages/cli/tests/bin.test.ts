import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { SAMPLE_EVENT } from "./helpers.js";

// The built executable, run as a user runs it (turbo builds the package before its tests).
const BIN = new URL("../dist/bin.js", import.meta.url).pathname;

function ondemandEks(args: string[], input?: string) {
  return spawnSync(process.execPath, [BIN, ...args], { input, encoding: "utf8", timeout: 30_000 });
}

describe("the ondemand-eks executable", () => {
  it("renders the sample event", () => {
    const result = ondemandEks(["render", "--event", SAMPLE_EVENT]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('name: "buildkite-0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70"');
    expect(result.stderr).toBe("");
  });

  it("answers bad input with one error and a non-zero status, never a stack trace", () => {
    for (const input of ["{", "null", '{"event":"job.scheduled"}', "x".repeat(2 * 1024 * 1024)]) {
      const result = ondemandEks(["render", "--event", "-"], input);
      expect(result.status).toBe(1);
      expect(result.stdout).toBe("");
      // One error line; when it has several problems, one indented line each.
      const [first, ...problems] = result.stderr.trimEnd().split("\n");
      expect(first).toMatch(/^ondemand-eks: error: /);
      for (const line of problems) expect(line).toMatch(/^ {2}\S/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    const several = ondemandEks(["render", "--event", "-"], '{"event":"job.scheduled"}');
    expect(several.stderr).toBe(
      [
        "ondemand-eks: error: 3 problems:",
        "  job: required: expected object",
        "  build: required: expected object",
        "  pipeline: required: expected object",
        "",
      ].join("\n"),
    );
  });

  it("exits with the status exit.ts decides: 2 usage, 1 invalid settings", () => {
    expect(ondemandEks(["render", "--event", SAMPLE_EVENT, "--bogus"]).status).toBe(2);
    expect(ondemandEks(["render"]).status).toBe(2);
    const invalid = ondemandEks(["render", "--event", SAMPLE_EVENT, "--namespace", "Bad NS"]);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toBe(
      "ondemand-eks: error: --namespace: expected a Kubernetes namespace name (RFC 1123 label)\n",
    );
  });

  it("ends quietly when its reader closes the pipe early", () => {
    // `true` exits without reading, so the render's write meets a closed pipe.
    const command = `"${process.execPath}" "${BIN}" render --event "${SAMPLE_EVENT}" | true`;
    const result = spawnSync("sh", ["-c", command], { encoding: "utf8", timeout: 30_000 });
    expect(result.stderr).toBe("");
  });

  it("prints help and exits 0", () => {
    const result = ondemandEks(["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("render [options]");
    expect(result.stdout).toContain("validate [options]");
  });
});
