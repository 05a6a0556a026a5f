/**
 * testenv's errors. A {@link PrerequisiteMissingError} (no Go, no Python, no kubectl)
 * is the one kind that {@link skipUnlessCi} turns into a skipped test outside CI; every
 * other error, a {@link DaemonStartError} included, fails the run everywhere.
 */

/** Something tests need is not installed on this machine: their reason to be skipped. */
export class PrerequisiteMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PrerequisiteMissingError";
  }
}

/** Go is needed only to build the binaries once; without it there is no control plane. */
export class ToolchainMissingError extends PrerequisiteMissingError {
  constructor(detail: string) {
    super(
      `the local Kubernetes control plane is built with Go, and no usable \`go\` was found (${detail}); install Go 1.26 or newer, or see README.md "The local control plane"`,
    );
    this.name = "ToolchainMissingError";
  }
}

/** Go is needed only to build the emulator once; without it there are no Lambda tests. */
export class RieToolchainMissingError extends ToolchainMissingError {
  constructor(detail: string) {
    super(detail);
    this.name = "RieToolchainMissingError";
    this.message = `the AWS Lambda Runtime Interface Emulator (for Lambda tests) is built with Go, and no usable \`go\` was found (${detail}); install Go 1.26.6 or newer`;
  }
}

/** Go is needed only to build the agent once; without it there are no real-agent tests. */
export class BuildkiteAgentToolchainMissingError extends ToolchainMissingError {
  constructor(detail: string) {
    super(detail);
    this.name = "BuildkiteAgentToolchainMissingError";
    this.message = `the real buildkite-agent (for tests against the Buildkite emulator) is built with Go, and no usable \`go\` was found (${detail}); install Go 1.26.5 or newer`;
  }
}

/** Go is needed only to build helm once; without it the chart is not rendered. */
export class HelmToolchainMissingError extends ToolchainMissingError {
  constructor(detail: string) {
    super(detail);
    this.name = "HelmToolchainMissingError";
    this.message = `helm (to lint and render deploy/helm/ondemand-eks) is built with Go, and no usable \`go\` was found (${detail}); install Go 1.26 or newer`;
  }
}

/** No usable Python 3 to install a test tool with. */
export class PythonMissingError extends PrerequisiteMissingError {
  constructor(tool: string, detail: string) {
    super(
      `${tool} is installed with Python 3 and its venv module, and none was usable (${detail})`,
    );
    this.name = "PythonMissingError";
  }
}

/** No kubectl to compare our kustomize rendering with. */
export class KubectlMissingError extends PrerequisiteMissingError {
  constructor(detail: string) {
    super(`kubectl is not installed (${detail})`);
    this.name = "KubectlMissingError";
  }
}

/**
 * A daemon exited while starting, or was not ready in time; the message ends with the
 * last lines of its log. `exited` tells the two apart: a daemon that lost its port to
 * another process exits, and a start with new ports may succeed.
 */
export class DaemonStartError extends Error {
  constructor(
    readonly daemon: string,
    readonly exited: boolean,
    message: string,
  ) {
    super(message);
    this.name = "DaemonStartError";
  }
}
