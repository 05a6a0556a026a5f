import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Log } from "./binaries.js";
import { ensurePythonTool, type PythonTool } from "./python-tools.js";

const execFileAsync = promisify(execFile);

/** AWS's CloudFormation linter (SAM templates are transformed and checked too), pinned. */
export const CFN_LINT_VERSION = "1.58.0";

const CFN_LINT: PythonTool = {
  name: "cfn-lint",
  requirement: `cfn-lint==${CFN_LINT_VERSION}`,
  version: CFN_LINT_VERSION,
  purpose: "the CloudFormation template linter",
};

/** What cfn-lint said about some templates: exit status 0 means no finding. */
export interface CfnLintResult {
  readonly status: number;
  readonly output: string;
}

const defaultLog: Log = (line) => process.stderr.write(`[cfn-lint] ${line}\n`);

/**
 * The cfn-lint executable, installing it into a cached venv the first time; throws
 * PythonMissingError without Python 3.
 *
 * @example
 * const lint = await skipUnlessCi(() => ensureCfnLint());
 */
export async function ensureCfnLint(log: Log = defaultLog): Promise<string> {
  return join(await ensurePythonTool(CFN_LINT, log), "bin", "cfn-lint");
}

/**
 * Lints templates with cfn-lint, installing it first if needed.
 *
 * @example
 * const { status, output } = await cfnLint(["deploy/lambda/sqs.yaml"]);
 */
export async function cfnLint(
  templates: readonly string[],
  options: { log?: Log; args?: readonly string[] } = {},
): Promise<CfnLintResult> {
  const cfnLintBin = await ensureCfnLint(options.log);
  try {
    const { stdout, stderr } = await execFileAsync(
      cfnLintBin,
      [...(options.args ?? []), "--", ...templates],
      { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
    );
    return { status: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { status: failed.code, output: (failed.stdout ?? "") + (failed.stderr ?? "") };
  }
}
