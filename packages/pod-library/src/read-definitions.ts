import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { parseDocument } from "yaml";
import type { LibraryProblem } from "./errors.js";

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

/** Parses one YAML text; problems carry the line and column YAML reports. */
export function parseDefinitionText(
  file: string,
  text: string,
): { content?: unknown; problems: LibraryProblem[] } {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    return {
      problems: document.errors.map((error) => {
        const at = error.linePos?.[0];
        const where = at ? `line ${at.line}, column ${at.col}` : "";
        // The first line of yaml's message, without the position it appends (we give it as the path).
        const message = (error.message.split("\n")[0] ?? error.message).replace(
          / at line \d+, column \d+:?$/,
          "",
        );
        return { file, path: where, message };
      }),
    };
  }
  try {
    return { content: document.toJS({ maxAliasCount: MAX_ALIASES }), problems: [] };
  } catch (error) {
    return {
      problems: [
        { file, path: "", message: error instanceof Error ? error.message : String(error) },
      ],
    };
  }
}

/**
 * Reads every `*.yaml` / `*.yml` file directly inside `directory` (sub-directories and
 * other files are skipped), in name order so results do not depend on the filesystem.
 */
export async function readDefinitionFiles(
  directory: string,
): Promise<{ files: DefinitionFile[]; problems: LibraryProblem[] }> {
  const problems: LibraryProblem[] = [];
  let entries: string[];
  try {
    entries = (await readdir(directory)).sort();
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
    const path = join(directory, entry);
    let text: string;
    try {
      const info = await stat(path);
      if (!info.isFile()) continue;
      if (info.size > MAX_DEFINITION_BYTES) {
        problems.push({
          file: entry,
          path: "",
          message: `file is ${info.size} bytes; at most ${MAX_DEFINITION_BYTES} allowed`,
        });
        continue;
      }
      text = await readFile(path, "utf8");
    } catch (error) {
      // One unreadable file (a dangling symlink, no permission) is one problem, not the end.
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      problems.push({ file: entry, path: "", message: `cannot read the file (${code})` });
      continue;
    }
    const parsed = parseDefinitionText(entry, text);
    problems.push(...parsed.problems);
    if (parsed.problems.length === 0)
      files.push({ file: entry, stem: basename(entry, extension), content: parsed.content });
  }
  return { files, problems };
}
