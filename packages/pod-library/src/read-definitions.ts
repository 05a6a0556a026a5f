import { readdir, realpath } from "node:fs/promises";
import { basename, extname } from "node:path";
import { parseDocument } from "yaml";
import { readContainedFile } from "./contained-file.js";
import type { LibraryProblem } from "./errors.js";
import { conversionMessage, yamlProblem } from "./without-content.js";

/** One definition file's parsed content, not yet validated. */
export interface DefinitionFile {
  /** File name relative to the library directory. */
  readonly file: string;
  /** The name the file's base name implies (`node-postgres.yaml` -> `node-postgres`). */
  readonly stem: string;
  readonly content: unknown;
}

/** Largest definition file we read, in bytes: a definition is a page of YAML, not a data set. */
export const MAX_DEFINITION_BYTES = 256 * 1024;
/** YAML aliases expanded per file, at most: stops "billion laughs" documents. */
const MAX_ALIASES = 100;

const EXTENSIONS = new Set([".yaml", ".yml"]);

/**
 * Parses one YAML text; problems carry the line and column YAML reports, and never the
 * text itself (see without-content.ts).
 */
export function parseDefinitionText(
  file: string,
  text: string,
): { content?: unknown; problems: LibraryProblem[] } {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    return { problems: document.errors.map((error) => yamlProblem(file, error)) };
  }
  try {
    return { content: document.toJS({ maxAliasCount: MAX_ALIASES }), problems: [] };
  } catch (error) {
    return { problems: [{ file, path: "", message: conversionMessage(error) }] };
  }
}

/**
 * Reads every `*.yaml` / `*.yml` file directly inside `directory` (sub-directories and
 * other files are skipped), in name order so results do not depend on the filesystem.
 * Nothing outside `directory` is read: a symbolic link that resolves outside it is a
 * problem, one that stays inside (a ConfigMap volume's) is followed.
 */
export async function readDefinitionFiles(
  directory: string,
): Promise<{ files: DefinitionFile[]; problems: LibraryProblem[] }> {
  const problems: LibraryProblem[] = [];
  let entries: string[];
  let root: string;
  try {
    root = await realpath(directory);
    entries = (await readdir(root)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    const reason =
      code === "ENOENT"
        ? "no such directory"
        : code === "ENOTDIR"
          ? "not a directory"
          : String(error);
    return {
      files: [],
      problems: [{ file: directory, path: "", message: `cannot read the pod library: ${reason}` }],
    };
  }
  const files: DefinitionFile[] = [];
  for (const entry of entries) {
    const extension = extname(entry);
    if (!EXTENSIONS.has(extension)) continue;
    // One unreadable or refused file (a dangling symlink, no permission, a link out of
    // the directory) is one problem, not the end.
    const read = await readContainedFile(root, entry, MAX_DEFINITION_BYTES);
    if (read.kind === "skipped") continue;
    if (read.kind === "refused") {
      problems.push({ file: entry, path: "", message: read.message });
      continue;
    }
    const parsed = parseDefinitionText(entry, read.text);
    problems.push(...parsed.problems);
    if (parsed.problems.length === 0)
      files.push({ file: entry, stem: basename(entry, extension), content: parsed.content });
  }
  return { files, problems };
}
