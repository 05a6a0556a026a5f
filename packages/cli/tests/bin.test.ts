import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LAUNCHER, SAMPLE_EVENT, tempDir } from "./helpers.js";

// The executable npm links, run as a user runs it (turbo builds the package before its
// tests): the committed launcher, which runs the build.
const BIN = LAUNCHER;
const ROOT = new URL("../../../", import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

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

  it("prints its package's version with --version and -V", () => {
    for (const flag of ["--version", "-V"]) {
      expect(ondemandEks([flag])).toMatchObject({ status: 0, stdout: `${version}\n`, stderr: "" });
    }
  });

  it("runs as `npx ondemand-eks` from the repository root, linked by npm to the launcher", () => {
    // Act
    // npm_config_yes=false: never install a package of that name from the registry instead.
    const result = spawnSync("npx", ["ondemand-eks", "--version"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, npm_config_yes: "false" },
    });

    // Assess
    expect(result).toMatchObject({ status: 0, stdout: `${version}\n` });
    // The link npm made at install time points at the committed launcher, which existed
    // then; not at dist/, which did not.
    expect(realpathSync(join(ROOT, "node_modules/.bin/ondemand-eks"))).toBe(realpathSync(BIN));
  });

  it("says to build first when there is no build to run", () => {
    // Prepare: the launcher in a package that has not been built.
    const dir = tempDir();
    mkdirSync(join(dir, "bin"));
    copyFileSync(BIN, join(dir, "bin/ondemand-eks.js"));

    // Act
    const result = spawnSync(process.execPath, [join(dir, "bin/ondemand-eks.js"), "--version"], {
      encoding: "utf8",
    });

    // Assess
    expect(result).toMatchObject({
      status: 1,
      stdout: "",
      stderr: `ondemand-eks: ${join(dir, "dist/bin.js")} is missing: run "npm run build" in the repository first\n`,
    });
  });

  it("prints help and exits 0", () => {
    const result = ondemandEks(["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("render [options]");
    expect(result.stdout).toContain("validate [options]");
  });
});
