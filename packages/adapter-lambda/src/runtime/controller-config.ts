import { CONTROLLER_SETTINGS } from "@ondemand-eks/controller/settings";
import type { Issue } from "@ondemand-eks/core";
import { type LoadedSettings, type Setting, setting, text } from "@ondemand-eks/core/config";
import { readConfig, type SchedulerConfig, SETTINGS } from "@ondemand-eks/runtime";

/** The Lambda's own way to give the cluster token: one secret or parameter, by ARN. */
export const CLUSTER_TOKEN_ARN = setting({
  key: "clusterTokenArn",
  env: ["ONDEMAND_EKS_CLUSTER_TOKEN_ARN"],
  inConfigFile: false,
  description:
    "ARN of the Secrets Manager secret or SSM parameter holding the cluster agent token, read once at init",
  parse: text,
  scopes: ["lambda"],
});

const c = CONTROLLER_SETTINGS;

/**
 * The controller's settings a scheduled function reads, as the function reads them: by
 * variable (scope `lambda`). Not the token file (the function has the ARN instead), nor
 * the interval between passes (the schedule is).
 */
export const LAMBDA_CONTROLLER_SETTINGS: readonly Setting[] = [
  c.buildkiteEndpoint,
  c.clusterToken,
  CLUSTER_TOKEN_ARN,
  c.stackKey,
  c.imagePullGraceMs,
  c.pendingTimeoutMs,
  c.emptyJobGraceMs,
  c.stoppedRetentionMs,
  c.leaseNamespace,
  c.leaseName,
  c.leaseDurationMs,
].map((declaration) => ({ ...declaration, scopes: ["lambda"] }) as Setting);

/** Where the function takes its cluster token from. */
export type ClusterTokenSource =
  | { readonly kind: "arn"; readonly arn: string }
  | { readonly kind: "variable" };

/** Everything a scheduled controller function reads from its environment, checked at init. */
export interface ControllerLambdaConfig {
  readonly scheduler: SchedulerConfig;
  /** The controller's settings, for `controllerFromSettings`. */
  readonly settings: LoadedSettings;
  readonly token: ClusterTokenSource;
}

/** One of the two ways to give the token, never both. */
function checkTokenSource(settings: LoadedSettings): Issue[] {
  const arn = settings.get(CLUSTER_TOKEN_ARN) !== undefined;
  const variable = settings.get(c.clusterToken) !== undefined;
  const names = `${CLUSTER_TOKEN_ARN.env[0]}, ${c.clusterToken.env[0]}`;
  if (arn && variable)
    return [{ path: names, message: "choose one way to give the cluster token" }];
  if (!arn && !variable) {
    return [
      {
        path: CLUSTER_TOKEN_ARN.env[0] as string,
        message: `required: ${CLUSTER_TOKEN_ARN.description} (or ${c.clusterToken.env[0]}, for tests)`,
      },
    ];
  }
  return [];
}

/**
 * Reads and checks a scheduled controller function's configuration from its environment
 * variables: the cluster, library and job settings every Lambda function reads (scope
 * `lambda`), the controller's own, and where the cluster token is. Throws
 * `InvalidSettingsError` listing every problem, each naming its variable.
 *
 * @example
 * const config = await readControllerLambdaConfig(process.env);
 * config.token; // { kind: "arn", arn: "arn:aws:secretsmanager:..." }
 */
export async function readControllerLambdaConfig(
  env: Readonly<Record<string, string | undefined>>,
): Promise<ControllerLambdaConfig> {
  const baseDir = env.LAMBDA_TASK_ROOT?.trim() || process.cwd();
  const { scheduler, settings } = await readConfig({
    scope: "lambda",
    env,
    baseDir,
    table: [...SETTINGS, ...LAMBDA_CONTROLLER_SETTINGS],
    check: checkTokenSource,
  });
  const arn = settings.get(CLUSTER_TOKEN_ARN);
  return {
    scheduler,
    settings,
    token: arn !== undefined ? { kind: "arn", arn } : { kind: "variable" },
  };
}
