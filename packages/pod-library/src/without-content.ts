import type { YAMLError } from "yaml";
import type { LibraryProblem } from "./errors.js";

/**
 * Problems are printed, logged and returned to callers, so they must not carry a file's
 * content: only what locates the problem (file, field path, line and column) and
 * identifiers short and plain enough to be field or object names.
 */

/** A value shown in a problem: the shape of a field, container, volume or tag name. */
const PLAIN = /^[\w./:@-]{1,63}$/;
/** A segment of a field path (`services[1]`, `nodeSelector`, `kubernetes.io/arch`). */
const PLAIN_SEGMENT = /^[\w/:@[\]-]{1,63}$/;
/** Longest message kept, whatever it holds. */
const MAX_MESSAGE = 300;
/** A JSON-style quoted string, as our validation messages quote values. */
const QUOTED = /"(?:[^"\\]|\\.)*"/g;

/**
 * yaml messages that may quote the source (a token, a tag, an escape, a directive), by
 * error code: replaced by these fixed texts. The codes not listed have fixed messages.
 */
const QUOTING_CODES: Readonly<Record<string, string>> = {
  BAD_COLLECTION_TYPE: "a tag of the wrong collection type",
  BAD_DIRECTIVE: "an unknown or invalid directive",
  BAD_DQ_ESCAPE: "an invalid escape sequence in a double-quoted string",
  BAD_PROP_ORDER: "anchors and tags must come after the indicator",
  BAD_SCALAR_START: "a plain value cannot start with this character",
  TAG_RESOLVE_FAILED: "an unresolved tag",
  UNEXPECTED_TOKEN: "unexpected text",
};

/** Codes whose messages yaml builds from fixed text only (checked against yaml 2.x). */
const FIXED_CODES = new Set([
  "ALIAS_PROPS",
  "BAD_ALIAS",
  "BAD_INDENT",
  "BLOCK_AS_IMPLICIT_KEY",
  "BLOCK_IN_FLOW",
  "DUPLICATE_KEY",
  "IMPOSSIBLE",
  "KEY_OVER_1024_CHARS",
  "MISSING_CHAR",
  "MULTILINE_IMPLICIT_KEY",
  "MULTIPLE_ANCHORS",
  "MULTIPLE_DOCS",
  "MULTIPLE_TAGS",
  "NON_STRING_KEY",
  "RESOURCE_EXHAUSTION",
  "TAB_AS_INDENT",
]);

/**
 * A YAML syntax error as a problem: its line and column, and what is wrong, without the
 * lines around it (the code frame `prettyErrors` adds) or any token it quotes.
 *
 * @example
 * ```ts
 * document.errors.map((error) => yamlProblem("default.yaml", error));
 * // { file: "default.yaml", path: "line 3, column 1", message: "Map keys must be unique" }
 * ```
 */
export function yamlProblem(file: string, error: YAMLError): LibraryProblem {
  const at = error.linePos?.[0];
  const path = at ? `line ${at.line}, column ${at.col}` : "";
  const fixed = QUOTING_CODES[error.code];
  if (fixed !== undefined || !FIXED_CODES.has(error.code)) {
    return { file, path, message: `${fixed ?? "invalid YAML"} (${error.code})` };
  }
  // The first line of yaml's message, without the position it appends (given as the path).
  const first = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
  return { file, path, message: capped(first) };
}

/**
 * A failure to turn a parsed document into data (an alias bomb, an alias without its
 * anchor) as a message that names the failure, not the alias.
 */
export function conversionMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  if (message.startsWith("Excessive alias count")) return capped(message);
  if (message.startsWith("Unresolved alias")) {
    return "an alias whose anchor is not set before it";
  }
  return "cannot be converted to data";
}

/**
 * The problem with every quoted value and path segment that does not look like a name
 * replaced by its length, and the message capped: a validation message quotes unknown
 * field names and object names, which are the file's content.
 *
 * @example
 * ```ts
 * withoutContent({ file: "a.yaml", path: "", message: 'unknown field "x y"' });
 * // { file: "a.yaml", path: "", message: 'unknown field (3 characters, not shown)' }
 * ```
 */
export function withoutContent(problem: LibraryProblem): LibraryProblem {
  const message = problem.message.replace(QUOTED, (quoted) => {
    const value = unquote(quoted);
    return PLAIN.test(value) ? quoted : `(${value.length} characters, not shown)`;
  });
  const path = problem.path
    .split(".")
    .map((segment) =>
      segment === "" || PLAIN_SEGMENT.test(segment) ? segment : "(a key not shown)",
    )
    .join(".");
  return { file: problem.file, path, message: capped(message) };
}

function unquote(quoted: string): string {
  try {
    const value: unknown = JSON.parse(quoted);
    return typeof value === "string" ? value : quoted;
  } catch {
    return quoted.slice(1, -1);
  }
}

function capped(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}... (cut)` : text;
}
