import { describeDefault, type Scope, type Setting } from "@ondemand-eks/core/config";
import { SETTINGS } from "@ondemand-eks/runtime";
import { describe, expect, it } from "vitest";
import { cli } from "./helpers.js";

// Every command's `--help` comes from the settings table: each setting of its scope is
// listed with its flag, placeholder, default and environment variables; no other is.
const COMMANDS: readonly { argv: string[]; scope: Scope }[] = [
  { argv: ["render"], scope: "render" },
  { argv: ["render-deployment"], scope: "render-deployment" },
  { argv: ["validate"], scope: "validate" },
  { argv: ["schedule"], scope: "schedule" },
  { argv: ["serve", "http"], scope: "serve-http" },
  { argv: ["consume", "sqs"], scope: "consume-sqs" },
  { argv: ["reconcile", "deployments"], scope: "reconcile-deployments" },
];

const flagged = SETTINGS.filter((declaration) => declaration.flag !== undefined);

/** The option's line as `--help` shows it, whitespace collapsed: flag, placeholder, notes. */
function expectedLine(declaration: Setting, scope: Scope): string {
  const fallback = declaration.placeholder ? describeDefault(declaration, scope) : undefined;
  const notes = [
    fallback === undefined ? undefined : `default: ${fallback}`,
    declaration.env.length > 0 ? `env ${declaration.env.join(", ")}` : undefined,
  ].filter(Boolean);
  const flag = `${declaration.flag}${declaration.placeholder ? ` ${declaration.placeholder}` : ""}`;
  return `${flag} ${declaration.description} (${notes.join("; ")})`;
}

/** Whether `text` lists `flag` as an option (not as part of a longer flag, `--queue-url`). */
const lists = (text: string, flag: string) =>
  new RegExp(`(^|\\s)${flag.replace(/[-]/g, "\\-")}(\\s|,|$)`, "m").test(text);

describe.each(COMMANDS)("ondemand-eks $argv --help", ({ argv, scope }) => {
  it("lists every setting of the table for this command, with its default and variables", async () => {
    // Act
    const { status, stdout, stderr } = await cli([...argv, "--help"]);

    // Assess
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    const text = stdout.replace(/\s+/g, " ");
    const ours = flagged.filter((declaration) => declaration.scopes.includes(scope));
    expect(ours.length).toBeGreaterThan(0);
    for (const declaration of ours) {
      expect(text, declaration.key).toContain(expectedLine(declaration, scope));
    }
    for (const declaration of flagged.filter((each) => !each.scopes.includes(scope))) {
      expect(lists(stdout, declaration.flag as string), declaration.flag).toBe(false);
    }
    expect(text).toContain("Exit status: 0 done");
  });
});

describe("--help of the new settings", () => {
  it("names their flags and environment variables", async () => {
    const schedule = (await cli(["schedule", "--help"])).stdout.replace(/\s+/g, " ");
    for (const text of [
      "--eks-endpoint <https://host>",
      "env ONDEMAND_EKS_CLUSTER_ENDPOINT",
      "--eks-ca-data <base64 PEM>",
      "env ONDEMAND_EKS_CLUSTER_CA_DATA",
      "--library <dir or s3://bucket/prefix/>",
      "--library-ttl <seconds>",
      "default: 300; env ONDEMAND_EKS_LIBRARY_TTL_SECONDS",
      "env ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS",
      "env ONDEMAND_EKS_DRY_RUN",
    ]) {
      expect(schedule).toContain(text);
    }
    const serve = (await cli(["serve", "http", "--help"])).stdout.replace(/\s+/g, " ");
    expect(serve).toContain("--log-level <level>");
    expect(serve).toContain(
      "(debug, info, warn, error) (default: info; env ONDEMAND_EKS_LOG_LEVEL)",
    );
    // A switch is off unless given: no default is shown for it.
    expect(serve).toContain(
      "--dry-run let the API server validate each Job (outcome dry-run) or pool Deployment without storing it (env ONDEMAND_EKS_DRY_RUN)",
    );
  });
});

describe("ondemand-eks --version", () => {
  it("prints the version of the package, with -V too", async () => {
    // Prepare
    const { version } = await import("../package.json");

    // Act
    const long = await cli(["--version"]);
    const short = await cli(["-V"]);

    // Assess
    expect(long).toEqual({ status: 0, stdout: `${version}\n`, stderr: "" });
    expect(short).toEqual(long);
  });
});
