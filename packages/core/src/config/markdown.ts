import { describeDefault, type Setting } from "./table.js";

/** `a`, `b`: a cell's list of code spans. */
const codes = (items: readonly string[]) => items.map((item) => `\`${item}\``).join(", ");

/**
 * The settings as a Markdown table (setting, flag, environment, default, where it
 * applies, meaning): what the README shows, so a test can compare the two.
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
      declaration.scopes.length === 7 ? "all" : declaration.scopes.join(", "),
      declaration.description.replaceAll("|", "\\|"),
    ];
  });
  const header = ["config key", "flag", "environment", "default", "used by", "meaning"];
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
