import { describeDefault, SCOPES, type Setting } from "./table.js";

/** A cell's width in characters (the table is ASCII; a code point counts as one). */
const width = (cell: string) => [...cell].length;

/** `a`, `b`: a cell's list of code spans. */
const codes = (items: readonly string[]) => items.map((item) => `\`${item}\``).join(", ");

/**
 * The settings as a Markdown table (config key, flag, environment, default, where it
 * applies, meaning): what the README shows, so a test can compare the two.
 *
 * @example
 * ```ts
 * const table = settingsMarkdown(SETTINGS); // "| config key | flag | ..."
 * ```
 */
export function settingsMarkdown(table: readonly Setting[]): string {
  const rows = table.map((declaration) => {
    const flag = declaration.flag
      ? `\`${declaration.flag}${declaration.placeholder ? ` ${declaration.placeholder}` : ""}\``
      : "";
    const key = declaration.inConfigFile === false ? "" : `\`${declaration.key}\``;
    const fallback = describeDefault(declaration);
    return [
      key,
      flag,
      codes(declaration.env),
      fallback === undefined ? "" : `\`${fallback}\``,
      declaration.scopes.length === SCOPES.length ? "all" : declaration.scopes.join(", "),
      declaration.description,
    ].map((cell) => cell.replaceAll("|", "\\|"));
  });
  const header = ["config key", "flag", "environment", "default", "used by", "meaning"];
  // Columns padded the way Biome formats a Markdown table (at least 3 wide), so the
  // README holds this text exactly and still passes `biome check`.
  const widths = header.map((_, column) =>
    Math.max(3, ...[header, ...rows].map((cells) => width(cells[column] ?? ""))),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell + " ".repeat((widths[column] ?? 0) - width(cell))).join(" | ")} |`;
  const rule = widths.map((size) => "-".repeat(size));
  return [line(header), line(rule), ...rows.map(line)].join("\n");
}
