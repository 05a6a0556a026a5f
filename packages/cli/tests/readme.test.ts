import { readFileSync } from "node:fs";
import { ALL_SETTINGS } from "@ondemand-eks/cli";
import { settingsMarkdown } from "@ondemand-eks/core/config";
import { describe, expect, it } from "vitest";

const README = new URL("../../../README.md", import.meta.url);
const BEGIN = "<!-- settings-table:begin -->";
const END = "<!-- settings-table:end -->";

describe("README", () => {
  it("shows the settings table generated from ALL_SETTINGS", () => {
    // Prepare
    const text = readFileSync(README, "utf8");
    const start = text.indexOf(BEGIN);
    const end = text.indexOf(END);
    expect(start, `README.md has no ${BEGIN} ... ${END} markers`).toBeGreaterThanOrEqual(0);
    expect(end, `README.md has no ${END} after ${BEGIN}`).toBeGreaterThan(start);
    // Act
    const shown = text.slice(start + BEGIN.length, end).trim();
    const expected = settingsMarkdown(ALL_SETTINGS);
    // Assess
    expect(
      shown,
      `README.md's settings table differs from settingsMarkdown(ALL_SETTINGS); paste this between the markers:\n\n${expected}\n`,
    ).toBe(expected);
  });
});
