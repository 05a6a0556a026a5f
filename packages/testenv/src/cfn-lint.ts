import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Log } from "./binaries.js";
import { ensurePythonTool, PythonMissingError, type PythonTool } from "./python-tools.js";

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

/** Lints templates with cfn-lint, installing it into a cached venv the first time. */
export async function cfnLint(
  templates: readonly string[],
  options: { log?: Log; args?: readonly string[] } = {},
): Promise<CfnLintResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[cfn-lint] ${line}\n`));
  const dir = await ensurePythonTool(CFN_LINT, log);
  try {
    const { stdout, stderr } = await execFileAsync(
      join(dir, "bin", "cfn-lint"),
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

/**
 * cfnLint for a test file: without Python the caller reports the tests as skipped with
 * the reason, except under CI=true, where that is an error.
 */
export async function cfnLintAvailable(): Promise<{ skipReason?: string }> {
  try {
    await ensurePythonTool(CFN_LINT, (line) => process.stderr.write(`[cfn-lint] ${line}\n`));
    return {};
  } catch (error) {
    if (error instanceof PythonMissingError && process.env.CI !== "true") {
      return { skipReason: error.message };
    }
    throw error;
  }
}
