import { join } from "node:path";
import type { Log } from "./binaries.js";
import { ensurePythonTool, type PythonTool } from "./python-tools.js";

/**
 * The AWS CLI (version 1, from PyPI) that the elastic-ci-stack agent image installs and
 * its hooks' tests run, pinned once: images/elastic-ci-stack/Dockerfile must name the
 * same version (a test checks they agree).
 */
export const AWSCLI_VERSION = "1.46.3";

const AWSCLI: PythonTool = {
  name: "awscli",
  requirement: `awscli==${AWSCLI_VERSION}`,
  version: AWSCLI_VERSION,
  purpose: "the AWS CLI the elastic-ci-stack hooks call",
};

const defaultLog: Log = (line) => process.stderr.write(`[awscli] ${line}\n`);

/**
 * The `aws` executable, installing awscli into a cached venv the first time; throws
 * PythonMissingError without Python 3.
 *
 * @example
 * const aws = await skipUnlessCi(() => ensureAwsCli());
 */
export async function ensureAwsCli(log: Log = defaultLog): Promise<string> {
  return join(await ensurePythonTool(AWSCLI, log), "bin", "aws");
}
