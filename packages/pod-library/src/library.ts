import { UnknownPodDefinitionError } from "@ondemand-eks/core";
import {
  checkPodDefinition,
  type PodDefinition,
  type PodDefinitionSource,
  safeParsePodDefinitionSource,
} from "@ondemand-eks/core/pod-definition";
import type { LibraryProblem } from "./errors.js";
import { mergeDefinitions } from "./merge.js";
import type { DefinitionFile } from "./read-definitions.js";
import { withoutContent } from "./without-content.js";

/**
 * A validated set of pod definitions, every `extends` resolved. Lookups are in memory:
 * a name never becomes a path, so `../x` is simply a name the library does not hold.
 */
export class PodLibrary {
  readonly #definitions: ReadonlyMap<string, PodDefinition>;

  constructor(definitions: Iterable<PodDefinition>) {
    this.#definitions = new Map([...definitions].map((d) => [d.name, d]));
  }

  /** The definition called `name`; throws `UnknownPodDefinitionError` if there is none. */
  get(name: string): PodDefinition {
    const found = this.#definitions.get(name);
    if (!found) throw new UnknownPodDefinitionError(name, this.names());
    return found;
  }

  has(name: string): boolean {
    return this.#definitions.has(name);
  }

  /** Definition names, sorted. */
  names(): string[] {
    return [...this.#definitions.keys()].sort();
  }

  /** Every definition, sorted by name. */
  definitions(): PodDefinition[] {
    return this.names().map((name) => this.get(name));
  }

  get size(): number {
    return this.#definitions.size;
  }
}

interface Entry {
  readonly file: string;
  readonly source: PodDefinitionSource;
}

/**
 * Validates parsed definition files and resolves `extends`. Pure: no I/O. Returns the
 * library only when there is no problem at all; otherwise every problem found.
 */
export function buildPodLibrary(files: readonly DefinitionFile[]): {
  library?: PodLibrary;
  problems: LibraryProblem[];
} {
  const problems: LibraryProblem[] = [];
  const entries = new Map<string, Entry>();
  /** Definitions that failed validation, by the name their file implies: stem -> file. */
  const invalid = new Map<string, string>();

  for (const { file, stem, content } of files) {
    const parsed = safeParsePodDefinitionSource(content);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push({ file, ...issue });
      invalid.set(stem, file);
      continue;
    }
    const { name } = parsed.data;
    if (name !== stem) {
      problems.push({
        file,
        path: "name",
        message: `expected "${stem}", the file's name without its extension`,
      });
      continue;
    }
    const earlier = entries.get(name);
    if (earlier) {
      problems.push({
        file,
        path: "name",
        message: `"${name}" is already defined in ${earlier.file}`,
      });
      continue;
    }
    entries.set(name, { file, source: parsed.data });
  }

  const resolved = new Map<string, PodDefinitionSource | null>();
  /** The definition with every ancestor merged in, or null when its chain is broken. */
  const resolve = (name: string, chain: readonly string[]): PodDefinitionSource | null => {
    const done = resolved.get(name);
    if (done !== undefined) return done;
    const entry = entries.get(name);
    const parentName = entry?.source.extends;
    let result: PodDefinitionSource | null = entry?.source ?? null;
    if (entry && parentName !== undefined) {
      const parent = chain.includes(parentName)
        ? null
        : resolve(parentName, [...chain, parentName]);
      result = parent ? mergeDefinitions(parent, entry.source) : null;
    }
    resolved.set(name, result);
    return result;
  };

  /** Why `name`'s extends chain cannot be resolved, said from that file's point of view. */
  const explain = (name: string): string => {
    const direct = entries.get(name)?.source.extends ?? "";
    const seen = [name];
    let current = name;
    for (;;) {
      const parent = entries.get(current)?.source.extends ?? "";
      if (seen.includes(parent)) {
        return parent === name
          ? `cycle: ${[...seen, parent].join(" -> ")}`
          : `"${direct}" cannot be resolved: its chain has a cycle`;
      }
      if (!entries.has(parent)) {
        if (current !== name)
          return `"${direct}" cannot be resolved (see ${entries.get(current)?.file})`;
        const broken = invalid.get(parent);
        return broken
          ? `"${parent}" has problems of its own (see ${broken})`
          : `no pod definition named "${parent}" in this library`;
      }
      seen.push(parent);
      current = parent;
    }
  };

  const definitions: PodDefinition[] = [];
  for (const [name, entry] of entries) {
    const source = resolve(name, [name]);
    if (!source) {
      problems.push({ file: entry.file, path: "extends", message: explain(name) });
      continue;
    }
    const checked = checkPodDefinition(source);
    if (checked.success) definitions.push(checked.data);
    else for (const issue of checked.error.issues) problems.push({ file: entry.file, ...issue });
  }

  if (problems.length > 0) {
    // Messages quote field and object names from the files: only name-like ones are kept.
    const shown = problems.map(withoutContent);
    shown.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    return { problems: shown };
  }
  return { library: new PodLibrary(definitions), problems };
}
