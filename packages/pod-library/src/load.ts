import { type LibraryProblem, PodLibraryError } from "./errors.js";
import { buildPodLibrary, type PodLibrary } from "./library.js";
import { readDefinitionFiles } from "./read-definitions.js";

/**
 * Every problem in the library at `directory`, without throwing: what
 * `ondemand-eks validate` prints. An empty list means the library loads.
 *
 * @example
 * ```ts
 * for (const p of await checkPodLibrary("pods")) console.error(formatProblem(p));
 * ```
 */
export async function checkPodLibrary(directory: string): Promise<LibraryProblem[]> {
  const { files, problems } = await readDefinitionFiles(directory);
  return byFile([...problems, ...buildPodLibrary(files).problems]);
}

/** Problems grouped by file, in file-name order; within a file, in the order found. */
function byFile(problems: LibraryProblem[]): LibraryProblem[] {
  return problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/**
 * Loads and validates the pod library in `directory`. Throws {@link PodLibraryError}
 * listing every problem (each as `file: path.to.field: message`) if there is any, so a
 * broken library stops a scheduler at start-up, not at its first job.
 *
 * @example
 * ```ts
 * const library = await loadPodLibrary("./pods");
 * const definition = library.get("node-postgres");
 * ```
 */
export async function loadPodLibrary(directory: string): Promise<PodLibrary> {
  const { files, problems } = await readDefinitionFiles(directory);
  const built = buildPodLibrary(files);
  const all = byFile([...problems, ...built.problems]);
  if (all.length > 0 || !built.library) throw new PodLibraryError(all);
  return built.library;
}
