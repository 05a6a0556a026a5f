import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  checkPodLibrary,
  formatProblem,
  loadPodLibrary,
  PodLibraryError,
} from "@ondemand-eks/pod-library";
import { afterEach, describe, expect, it } from "vitest";
import { libraryDir } from "./helpers.js";

const DEFAULT = "name: default\nagent:\n  image: buildkite/agent:3\n";
/** Looks like a secret, and is a YAML key: the old loader quoted it as an unknown field. */
const SECRET = "s3cr3t-AKIAIOSFODNN7EXAMPLE";
const SECRET_FILE = `${SECRET}: hunter2\nroot: $6$rounds=5000$saltsalt$hash\n`;

const outside: string[] = [];
afterEach(() => {
  for (const dir of outside.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A directory outside any library, holding `files`. */
function elsewhere(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "not-a-pod-library-"));
  outside.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function loadError(dir: string): Promise<PodLibraryError> {
  const error = await loadPodLibrary(dir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PodLibraryError);
  return error as PodLibraryError;
}

describe("symbolic links", () => {
  it("refuses a link to a file outside the directory, naming the link, never the content", async () => {
    // Prepare
    const secrets = elsewhere({ "shadow.yaml": SECRET_FILE });
    const dir = libraryDir({ "default.yaml": DEFAULT });
    symlinkSync(join(secrets, "shadow.yaml"), join(dir, "shadow.yaml"));

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.problems).toEqual([
      {
        file: "shadow.yaml",
        path: "",
        message: expect.stringMatching(/^is a symbolic link to a file outside the pod library/),
      },
    ]);
    const everything = JSON.stringify({ message: error.message, issues: error.issues });
    for (const content of [SECRET, "hunter2", "saltsalt", secrets]) {
      expect(everything).not.toContain(content);
    }
  });

  it("refuses a relative link out of the directory, and one to a sibling with a longer name", async () => {
    // Prepare
    const dir = libraryDir({ "default.yaml": DEFAULT });
    const sibling = `${dir}-sibling`;
    outside.push(sibling);
    mkdirSync(sibling);
    writeFileSync(join(sibling, "x.yaml"), SECRET_FILE);
    symlinkSync(join("..", basename(sibling), "x.yaml"), join(dir, "up.yaml"));
    symlinkSync(join(sibling, "x.yaml"), join(dir, "sibling.yaml"));

    // Act
    const found = (await checkPodLibrary(dir)).map(formatProblem);

    // Assess
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^sibling\.yaml: is a symbolic link to a file outside/);
    expect(found[1]).toMatch(/^up\.yaml: is a symbolic link to a file outside/);
    expect(found.join("\n")).not.toContain(SECRET);
  });

  it("loads a ConfigMap volume's layout: name -> ..data/name, ..data -> ..<timestamp>", async () => {
    // Prepare: what the kubelet's atomic writer makes for a ConfigMap with two keys.
    const dir = libraryDir({});
    const stamp = "..2024_06_01_12_00_00.123456789";
    mkdirSync(join(dir, stamp));
    writeFileSync(join(dir, stamp, "default.yaml"), DEFAULT);
    writeFileSync(join(dir, stamp, "small.yaml"), "name: small\nextends: default\n");
    symlinkSync(stamp, join(dir, "..data"));
    symlinkSync(join("..data", "default.yaml"), join(dir, "default.yaml"));
    symlinkSync(join("..data", "small.yaml"), join(dir, "small.yaml"));

    // Act
    const library = await loadPodLibrary(dir);

    // Assess
    expect(library.names()).toEqual(["default", "small"]);
    expect(library.get("small").agent.image).toBe("buildkite/agent:3");
  });

  it("follows a library reached through a link to its directory", async () => {
    const dir = libraryDir({ "default.yaml": DEFAULT });
    const link = join(elsewhere({}), "pods");
    symlinkSync(dir, link);
    expect((await loadPodLibrary(link)).names()).toEqual(["default"]);
  });
});

describe("no file content in problems", () => {
  it("locates a YAML syntax error by line and column without quoting its text", async () => {
    // Prepare: each error's message, in yaml, quotes the offending text.
    const dir = libraryDir({
      "header.yaml": `name: header\nagent: |2 ${SECRET}\n  x\n`,
      "escape.yaml": `name: escape\nagent: "\\q ${SECRET}"\n`,
      "alias.yaml": `name: alias\nagent: *${SECRET}\n`,
    });

    // Act
    const found = (await checkPodLibrary(dir)).map(formatProblem);

    // Assess
    expect(found).toEqual([
      "alias.yaml: an alias whose anchor is not set before it",
      "escape.yaml: line 2, column 9: an invalid escape sequence in a double-quoted string (BAD_DQ_ESCAPE)",
      "header.yaml: line 2, column 11: unexpected text (UNEXPECTED_TOKEN)",
    ]);
    expect(found.join("\n")).not.toContain(SECRET);
  });

  it("names a plain unknown field, but not a key that does not look like a field name", async () => {
    const odd = "AKIA IOSFODNN7 EXAMPLE/wJalrXUtnFEMI+K7MDENG";
    const dir = libraryDir({
      "default.yaml": `${DEFAULT}servics: []\n"${odd}": 1\n`,
      "labels.yaml": `name: labels\nagent:\n  image: x\n  tags:\n    "${odd}": [1]\n`,
    });
    const found = (await checkPodLibrary(dir)).map(formatProblem);
    expect(found.join("\n")).not.toContain("AKIA");
    expect(found).toContain(
      `default.yaml: unknown fields "servics", (${odd.length} characters, not shown)`,
    );
  });
});
