import { goVersion, type Log } from "./binaries.js";
import { type ControlPlaneState, destroyControlPlane, startControlPlane } from "./control-plane.js";
import { type Prerequisite, skipUnlessCi } from "./prerequisites.js";
import { createRunDir } from "./run-dirs.js";

/** Where a test run's control plane answers. */
export interface ControlPlaneAddress {
  server: string;
  kubeconfig: string;
  dir: string;
}

/** What test files learn about the control plane (vitest `provide` / `inject`). */
export type TestControlPlane = Prerequisite<ControlPlaneAddress>;

/** A test run's control plane: `state` is set when `info.available`. */
export interface TestRun {
  info: TestControlPlane;
  state?: ControlPlaneState;
  teardown: () => Promise<void>;
}

/**
 * A private control plane for one test run (a vitest global setup, or one test file
 * that needs to stop its API server), in a run directory of its own. Without Go the
 * control plane is reported unavailable with the reason, so the tests that need it are
 * skipped (see skipUnlessCi); under CI=true that is an error, and so is any failure to
 * start.
 *
 * @example
 * const plane = await startTestControlPlane("sqs-consumer", { controllerManager: false });
 * afterAll(() => plane.teardown());
 * describeWith(plane.info, "contract: SQS consumer", () => { ... });
 */
export async function startTestControlPlane(
  name: string,
  options: {
    log?: Log;
    controllerManager?: boolean;
    apiserverArgs?: string[];
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<TestRun> {
  const log =
    options.log ?? ((line: string) => process.stderr.write(`[testenv ${name}] ${line}\n`));
  const env = options.env ?? process.env;
  const go = await skipUnlessCi(() => goVersion(env), env);
  if (!go.available) return { info: go, teardown: async () => {} };
  const dir = await createRunDir(name, log);
  try {
    const state = await startControlPlane({
      dir,
      log,
      ...(options.controllerManager === undefined
        ? {}
        : { controllerManager: options.controllerManager }),
      ...(options.apiserverArgs ? { apiserverArgs: options.apiserverArgs } : {}),
    });
    return {
      info: {
        available: true,
        value: { server: state.server, kubeconfig: state.kubeconfig, dir },
      },
      state,
      teardown: () => destroyControlPlane(dir),
    };
  } catch (error) {
    await destroyControlPlane(dir);
    throw error;
  }
}
