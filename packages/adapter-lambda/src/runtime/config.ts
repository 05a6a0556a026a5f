import { RUNTIME_SETTINGS, readConfig, type SchedulerConfig } from "@ondemand-eks/runtime";

/** Everything the function reads from its environment, checked once at init. */
export interface LambdaConfig {
  readonly scheduler: SchedulerConfig;
  /** Messages of one SQS batch scheduled at once. */
  readonly sqsConcurrency: number;
}

/**
 * Reads and checks the function's configuration from its environment variables, through
 * the settings table's `lambda` scope. Relative paths (the library, a kubeconfig) are
 * taken from the function's package (LAMBDA_TASK_ROOT). Throws `InvalidSettingsError`
 * listing every problem, each naming its variable, so one failed init says all that is
 * wrong.
 */
export async function readLambdaConfig(
  env: Readonly<Record<string, string | undefined>>,
): Promise<LambdaConfig> {
  const baseDir = env.LAMBDA_TASK_ROOT?.trim() || process.cwd();
  const { scheduler, settings } = await readConfig({ scope: "lambda", env, baseDir });
  return { scheduler, sqsConcurrency: settings.get(RUNTIME_SETTINGS.concurrency) ?? 10 };
}
