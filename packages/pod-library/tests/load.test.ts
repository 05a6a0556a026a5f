import { rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { UnknownPodDefinitionError } from "@ondemand-eks/core";
import {
  checkPodLibrary,
  formatProblem,
  loadPodLibrary,
  PodLibraryError,
} from "@ondemand-eks/pod-library";
import { describe, expect, it } from "vitest";
import { libraryDir } from "./helpers.js";

const DEFAULT = "name: default\nagent:\n  image: buildkite/agent:3\n";

async function problems(files: Record<string, string>): Promise<string[]> {
  return (await checkPodLibrary(libraryDir(files))).map(formatProblem);
}

describe("loadPodLibrary", () => {
  it("reports every problem at once, as file: path: message", async () => {
    // Prepare
    const files = {
      "default.yaml": DEFAULT,
      "bad-yaml.yaml": "name: bad-yaml\nagent: [unclosed\n",
      "typo.yaml": "name: typo\nagent:\n  image: x\nservics: []\n",
      "renamed.yaml": "name: other-name\nagent:\n  image: x\n",
      "loop-a.yaml": "name: loop-a\nextends: loop-b\n",
      "loop-b.yaml": "name: loop-b\nextends: loop-a\n",
      "orphan.yaml": "name: orphan\nextends: missing\n",
      "twice.yaml":
        "name: twice\nextends: default\nservices:\n  - name: db\n    image: a\n  - name: db\n    image: b\n",
      "no-image.yaml": "name: no-image\nagent:\n  resources: {}\n",
      "wrong-type.yaml": "name: wrong-type\nagent:\n  image: 42\n",
      "child-of-broken.yaml": "name: child-of-broken\nextends: wrong-type\n",
      "grandchild.yaml": "name: grandchild\nextends: orphan\n",
      "dup-key.yaml": "name: dup-key\nname: dup-key\n",
      "README.md": "not a definition",
    };

    // Act
    const found = await problems(files);

    // Assess
    expect(found).toEqual([
      // yaml places an unclosed flow sequence at the end of the file.
      "bad-yaml.yaml: line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]",
      'child-of-broken.yaml: extends: "wrong-type" has problems of its own (see wrong-type.yaml)',
      "dup-key.yaml: line 2, column 1: Map keys must be unique",
      'grandchild.yaml: extends: "orphan" cannot be resolved (see orphan.yaml)',
      "loop-a.yaml: extends: cycle: loop-a -> loop-b -> loop-a",
      "loop-b.yaml: extends: cycle: loop-b -> loop-a -> loop-b",
      "no-image.yaml: agent.image: required: the agent container's image (set here or in the definition this extends)",
      'orphan.yaml: extends: no pod definition named "missing" in this library',
      'renamed.yaml: name: expected "renamed", the file\'s name without its extension',
      'twice.yaml: services[1].name: container name "db" is already used by services[0]',
      'typo.yaml: unknown field "servics"',
      "wrong-type.yaml: agent.image: expected string, received number",
    ]);
  });

  it("throws PodLibraryError whose message lists the same problems, one per line", async () => {
    const dir = libraryDir({ "default.yaml": DEFAULT, "x.yaml": "name: x\n" });
    const error = await loadPodLibrary(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodLibraryError);
    expect(error).toMatchObject({
      name: "PodLibraryError",
      code: "INVALID_POD_LIBRARY",
      issues: [{ path: "x.yaml: agent.image" }],
    });
    expect((error as PodLibraryError).message).toBe(
      "x.yaml: agent.image: required: the agent container's image (set here or in the definition this extends)",
    );
  });

  it("reports an unreadable file as one problem and still checks the rest", async () => {
    // Prepare
    const dir = libraryDir({ "default.yaml": DEFAULT, "x.yaml": "name: x\n" });
    symlinkSync(join(dir, "nowhere.yaml"), join(dir, "dangling.yaml"));

    // Act
    const found = (await checkPodLibrary(dir)).map(formatProblem);

    // Assess
    expect(found).toEqual([
      "dangling.yaml: cannot read the file (ENOENT)",
      "x.yaml: agent.image: required: the agent container's image (set here or in the definition this extends)",
    ]);
  });

  it("names a missing directory", async () => {
    expect(await checkPodLibrary("/nonexistent/pods")).toEqual([
      {
        file: "/nonexistent/pods",
        path: "",
        message: "cannot read the pod library: no such directory",
      },
    ]);
  });

  it("refuses a YAML alias bomb instead of expanding it", async () => {
    const bomb = [
      "name: bomb",
      "agent:",
      "  image: x",
      "x1: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]",
      ...Array.from(
        { length: 12 },
        (_, i) =>
          `x${i + 2}: &a${i} [${Array(9)
            .fill(i === 0 ? "*a" : `*a${i - 1}`)
            .join(", ")}]`,
      ),
    ].join("\n");
    const found = await problems({ "bomb.yaml": bomb });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^bomb\.yaml: .*alias/i);
  });

  it("looks names up in memory: path-like names are unknown, and no file is read after loading", async () => {
    // Prepare
    const dir = libraryDir({ "default.yaml": DEFAULT });
    const library = await loadPodLibrary(dir);
    rmSync(dir, { recursive: true });

    // Act and assess
    expect(library.get("default").agent.image).toBe("buildkite/agent:3");
    for (const name of [
      "../default",
      "/etc/passwd",
      "default.yaml",
      "__proto__",
      "constructor",
      "toString",
      "",
    ]) {
      expect(() => library.get(name), name).toThrow(UnknownPodDefinitionError);
    }
    expect(() => library.get("gpu")).toThrow('no pod definition named "gpu" (known: default)');
  });

  it("keeps a __proto__ key in a pod template as data, without touching any prototype", async () => {
    const yaml = `${DEFAULT}pod:\n  __proto__:\n    hostNetwork: true\n  nodeSelector:\n    a: b\n`;
    const library = await loadPodLibrary(libraryDir({ "default.yaml": yaml }));
    const pod = library.get("default").pod as Record<string, unknown>;
    expect(Object.getPrototypeOf(pod)).toBe(Object.prototype);
    expect(pod.hostNetwork).toBeUndefined();
    expect(({} as Record<string, unknown>).hostNetwork).toBeUndefined();
  });
});
