import { awsCredentials } from "@ondemand-eks/runtime";
import { ClusterTokenUnavailableError } from "../errors.js";

/** Where a cluster token is kept: a Secrets Manager secret or an SSM parameter. */
export type ClusterTokenLocation =
  | { readonly service: "secretsmanager"; readonly arn: string; readonly region: string }
  | {
      readonly service: "ssm";
      readonly arn: string;
      readonly region: string;
      /** The parameter's name: `/path/name` for a hierarchy, `name` otherwise. */
      readonly name: string;
    };

const ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso(?:-[a-z])?):(secretsmanager|ssm):([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):(.+)$/;

/**
 * Where `arn` points, or undefined when it is not the ARN of a Secrets Manager secret
 * (`arn:aws:secretsmanager:<region>:<account>:secret:<name>`) or of an SSM parameter
 * (`arn:aws:ssm:<region>:<account>:parameter/<name>`).
 *
 * @example
 * parseClusterTokenArn("arn:aws:ssm:eu-west-1:123456789012:parameter/buildkite/token");
 * // { service: "ssm", region: "eu-west-1", name: "/buildkite/token", arn: "..." }
 */
export function parseClusterTokenArn(arn: string): ClusterTokenLocation | undefined {
  const match = ARN.exec(arn.trim());
  if (!match) return undefined;
  const [, , service, region = "", , resource = ""] = match;
  if (service === "secretsmanager") {
    return /^secret:[\w/+=.@-]+$/.test(resource) ? { service, arn: arn.trim(), region } : undefined;
  }
  const parameter = /^parameter\/([\w/.-]+)$/.exec(resource)?.[1];
  if (!parameter || parameter.endsWith("/") || parameter.includes("//")) return undefined;
  // A hierarchical parameter's ARN drops its leading slash: parameter/a/b is /a/b.
  const name = parameter.includes("/") ? `/${parameter}` : parameter;
  return { service: "ssm", arn: arn.trim(), region, name };
}

export interface ReadClusterTokenOptions {
  /** Credentials and endpoint overrides (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_SSM`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Deadline of the whole read, retries included. Default 4 s: Lambda's init has 10 s in all. */
  readonly timeoutMs?: number;
}

/** Connection and request deadlines of each attempt, inside the overall one. */
const REQUEST_HANDLER = { connectionTimeout: 2_000, requestTimeout: 3_000 };

/**
 * Reads a cluster token once, from the secret (`GetSecretValue`, its SecretString) or
 * the parameter (`GetParameter` with decryption) `arn` names, in the ARN's own region.
 * Only that service's client is loaded. Throws {@link ClusterTokenUnavailableError}
 * naming the ARN and the reason (never the value) when the ARN is not one of those, the
 * call fails or misses its deadline, or the value is empty or binary.
 *
 * @example
 * const token = await readClusterToken(process.env.ONDEMAND_EKS_CLUSTER_TOKEN_ARN, {
 *   env: process.env,
 * });
 */
export async function readClusterToken(
  arn: string,
  options: ReadClusterTokenOptions,
): Promise<string> {
  const location = parseClusterTokenArn(arn);
  if (!location) {
    throw new ClusterTokenUnavailableError(
      arn,
      "expected the ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>) or of an SSM parameter (arn:aws:ssm:<region>:<account>:parameter/<name>)",
    );
  }
  const abortSignal = AbortSignal.timeout(options.timeoutMs ?? 4_000);
  let value: string | undefined;
  try {
    value =
      location.service === "secretsmanager"
        ? await secretString(location, options.env, abortSignal)
        : await parameterValue(location, options.env, abortSignal);
  } catch (error) {
    const reason = abortSignal.aborted
      ? `no answer within ${options.timeoutMs ?? 4_000} ms`
      : describe(error);
    throw new ClusterTokenUnavailableError(location.arn, reason, { cause: error });
  }
  const token = value?.trim() ?? "";
  if (token === "") {
    throw new ClusterTokenUnavailableError(
      location.arn,
      location.service === "secretsmanager"
        ? "the secret has no SecretString (binary secrets are not read)"
        : "the parameter is empty",
    );
  }
  return token;
}

async function secretString(
  location: ClusterTokenLocation,
  env: ReadClusterTokenOptions["env"],
  abortSignal: AbortSignal,
): Promise<string | undefined> {
  const { GetSecretValueCommand, SecretsManagerClient } = await import(
    "@aws-sdk/client-secrets-manager"
  );
  const client = new SecretsManagerClient({
    region: location.region,
    credentials: awsCredentials(env),
    ...(env.AWS_ENDPOINT_URL_SECRETS_MANAGER
      ? { endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER }
      : {}),
    requestHandler: REQUEST_HANDLER,
  });
  try {
    const answer = await client.send(new GetSecretValueCommand({ SecretId: location.arn }), {
      abortSignal,
    });
    return answer.SecretString;
  } finally {
    client.destroy();
  }
}

async function parameterValue(
  location: Extract<ClusterTokenLocation, { service: "ssm" }>,
  env: ReadClusterTokenOptions["env"],
  abortSignal: AbortSignal,
): Promise<string | undefined> {
  const { GetParameterCommand, SSMClient } = await import("@aws-sdk/client-ssm");
  const client = new SSMClient({
    region: location.region,
    credentials: awsCredentials(env),
    ...(env.AWS_ENDPOINT_URL_SSM ? { endpoint: env.AWS_ENDPOINT_URL_SSM } : {}),
    requestHandler: REQUEST_HANDLER,
  });
  try {
    const answer = await client.send(
      new GetParameterCommand({ Name: location.name, WithDecryption: true }),
      { abortSignal },
    );
    return answer.Parameter?.Value;
  } finally {
    client.destroy();
  }
}

/** An AWS SDK error as `Name: message`, which says what went wrong without the value. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name && error.name !== "Error" ? `${error.name}: ${error.message}` : error.message;
}
