/**
 * Keeps docs/pod-definitions.md, the pod definition reference, complete and true: a
 * section for every top-level field of the schema (and none for a field that is gone),
 * every privilege feature and compute value named in its section, and every complete
 * definition in it valid against the library's own checks, or refused with the message
 * it says.
 */
import { readFileSync } from "node:fs";
import {
  POD_COMPUTES,
  PodDefinitionSourceSchema,
  PRIVILEGE_FEATURES,
} from "@ondemand-eks/core/pod-definition";
import {
  buildPodLibrary,
  bundledLibraryDir,
  type DefinitionFile,
  formatProblem,
  parseDefinitionText,
  readDefinitionFiles,
} from "@ondemand-eks/pod-library";
import { describe, expect, it } from "vitest";

const DOC_PATH = new URL("../../../docs/pod-definitions.md", import.meta.url);
const doc = readFileSync(DOC_PATH, "utf8");

/** The one heading form a field's section uses: "## `field`", alone on its line. */
const FIELD_HEADING = /^## `([^`]+)`$/gm;

/** The text of the section headed "## `field`", up to the next level-2 heading. */
function fieldSection(field: string): string {
  const start = doc.indexOf(`\n## \`${field}\`\n`);
  if (start < 0) return "";
  const end = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

interface Example {
  readonly name: string;
  readonly text: string;
  /** The problem the doc says this definition gets, when it shows a refusal. */
  readonly refused?: string;
}

/**
 * Every YAML document in a yaml code block that is a complete definition (a top-level
 * `name:`). One whose first line is `# refused: <path>: <message>` shows a problem.
 */
function examples(): Example[] {
  const found: Example[] = [];
  for (const block of doc.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)) {
    for (const text of (block[1] ?? "").split(/^---$/m)) {
      const name = /^name: *([^\s#]+)/m.exec(text)?.[1];
      if (name === undefined) continue;
      const refused = /^# refused: (.+)$/m.exec(text)?.[1];
      found.push(refused === undefined ? { name, text } : { name, text, refused });
    }
  }
  return found;
}

/** The bundled library with `example` added, replacing a bundled file of the same name. */
async function withBundled(example: Example): Promise<DefinitionFile[]> {
  const file = `${example.name}.yaml`;
  const parsed = parseDefinitionText(file, example.text);
  expect(parsed.problems.map(formatProblem)).toEqual([]);
  const { files, problems } = await readDefinitionFiles(bundledLibraryDir());
  expect(problems).toEqual([]);
  return [
    ...files.filter((f) => f.stem !== example.name),
    { file, stem: example.name, content: parsed.content },
  ];
}

const all = examples();
const valid = all.filter((e) => e.refused === undefined);
const refused = all.filter((e) => e.refused !== undefined);

describe("docs/pod-definitions.md", () => {
  it('has a "## `field`" section for every top-level field of the schema, and none other', () => {
    // Prepare
    const fields = Object.keys(PodDefinitionSourceSchema.shape).sort();

    // Act
    const headed = [...doc.matchAll(FIELD_HEADING)].map((m) => m[1]).sort();

    // Assess
    expect(headed).toEqual(fields);
  });

  it("names every privilege feature in the privilege section", () => {
    const section = fieldSection("privilege");
    const missing = PRIVILEGE_FEATURES.filter((feature) => !section.includes(`\`${feature}\``));
    expect(missing).toEqual([]);
  });

  it("names every compute value in the compute section", () => {
    const section = fieldSection("compute");
    const missing = POD_COMPUTES.filter((value) => !section.includes(`\`${value}\``));
    expect(missing).toEqual([]);
  });

  it("holds complete definitions to check, valid ones and refused ones", () => {
    // A broken extractor must not pass by finding nothing.
    expect(valid.length).toBeGreaterThanOrEqual(5);
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(new Set(all.map((e) => e.name)).size).toBe(all.length);
  });

  it.each(valid.map((e) => [e.name, e] as const))(
    "%s passes the library's validation",
    async (_name, example) => {
      // Prepare
      const files = await withBundled(example);

      // Act
      const built = buildPodLibrary(files);

      // Assess
      expect(built.problems.map(formatProblem)).toEqual([]);
      expect(built.library?.has(example.name)).toBe(true);
    },
  );

  it.each(refused.map((e) => [e.name, e] as const))(
    "%s is refused with the message the doc shows",
    async (_name, example) => {
      // Prepare
      const files = await withBundled(example);

      // Act
      const built = buildPodLibrary(files);

      // Assess
      expect(built.library).toBeUndefined();
      const messages = built.problems
        .filter((p) => p.file === `${example.name}.yaml`)
        .map((p) => `${p.path}: ${p.message}`);
      expect(messages).toContainEqual(expect.stringContaining(example.refused ?? ""));
    },
  );
});
