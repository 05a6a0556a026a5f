import {
  boolean,
  oneOf,
  SCHEDULER_SETTINGS,
  SCOPES,
  type Scope,
  type Setting,
  secondsAsMs,
  setting,
  text,
  wholeNumber,
} from "@ondemand-eks/core/config";

const CLUSTER: readonly Scope[] = [
  "validate",
  "schedule",
  "serve-http",
  "consume-sqs",
  "lambda",
  "controller",
  "reconcile-deployments",
];
const SERVERS: readonly Scope[] = ["serve-http", "consume-sqs", "controller"];
/** Every entry point reads the pod library. */
const LIBRARY: readonly Scope[] = SCOPES;

/** Log levels, least to most severe. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The settings of the runtime around the core: where the pod library and the cluster
 * are, deadlines, logging, dry runs, and how many SQS messages at once (the Lambda's and
 * the consumer's). With {@link SCHEDULER_SETTINGS}: {@link SETTINGS}.
 */
export const RUNTIME_SETTINGS = {
  library: setting({
    key: "library",
    flag: "--library",
    placeholder: "<dir or s3://bucket/prefix/>",
    env: ["ONDEMAND_EKS_LIBRARY"],
    description: "pod library: a directory, or an S3 prefix read again after its TTL",
    parse: text,
    defaultIn: { lambda: "pods" },
    defaultText: "the bundled pods/",
    scopes: LIBRARY,
  }),
  libraryTtlSeconds: setting({
    key: "libraryTtlSeconds",
    flag: "--library-ttl",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_LIBRARY_TTL_SECONDS"],
    description: "how long an S3 library is used before S3 is asked again",
    parse: wholeNumber(0, 86_400, "seconds"),
    default: 300,
    scopes: LIBRARY,
  }),
  kubeconfig: setting({
    key: "kubeconfig",
    flag: "--kubeconfig",
    placeholder: "<file>",
    env: ["ONDEMAND_EKS_KUBECONFIG"],
    description: "kubeconfig of the cluster",
    parse: text,
    defaultText: "$KUBECONFIG, then ~/.kube/config",
    scopes: CLUSTER,
  }),
  context: setting({
    key: "context",
    flag: "--context",
    placeholder: "<name>",
    env: ["ONDEMAND_EKS_CONTEXT"],
    description: "kubeconfig context",
    parse: text,
    defaultText: "its current-context",
    scopes: CLUSTER,
  }),
  inCluster: setting({
    key: "inCluster",
    flag: "--in-cluster",
    env: ["ONDEMAND_EKS_IN_CLUSTER"],
    description: "use the pod's ServiceAccount token instead of a kubeconfig",
    parse: boolean,
    default: false,
    scopes: [
      "validate",
      "schedule",
      "serve-http",
      "consume-sqs",
      "controller",
      "reconcile-deployments",
    ],
  }),
  eksCluster: setting({
    key: "eksCluster",
    flag: "--eks-cluster",
    placeholder: "<name>",
    env: ["ONDEMAND_EKS_CLUSTER_NAME"],
    description: "an EKS cluster, authenticated with IAM (the AWS credential chain)",
    parse: text,
    scopes: CLUSTER,
  }),
  eksEndpoint: setting({
    key: "eksEndpoint",
    flag: "--eks-endpoint",
    placeholder: "<https://host>",
    env: ["ONDEMAND_EKS_CLUSTER_ENDPOINT"],
    description: "the EKS cluster's endpoint; given with its CA, no DescribeCluster call",
    parse: text,
    scopes: CLUSTER,
  }),
  eksCaData: setting({
    key: "eksCaData",
    flag: "--eks-ca-data",
    placeholder: "<base64 PEM>",
    env: ["ONDEMAND_EKS_CLUSTER_CA_DATA"],
    description: "the EKS cluster's CA (DescribeCluster's certificateAuthority.data)",
    parse: text,
    scopes: CLUSTER,
  }),
  region: setting({
    key: "region",
    flag: "--region",
    placeholder: "<region>",
    env: ["AWS_REGION", "AWS_DEFAULT_REGION"],
    description: "AWS region of the EKS cluster, the SQS queue and an S3 library",
    parse: text,
    scopes: LIBRARY,
    requiredIn: ["consume-sqs"],
  }),
  submitTimeoutMs: setting({
    key: "submitTimeoutSeconds",
    flag: "--timeout",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS"],
    description: "give up on the API server after this long, retries included",
    parse: secondsAsMs(0.1, 3_600),
    default: 30_000,
    defaultIn: { lambda: 20_000 },
    showDefault: (ms) => String(ms / 1000),
    scopes: CLUSTER,
  }),
  logLevel: setting({
    key: "logLevel",
    flag: "--log-level",
    placeholder: "<level>",
    env: ["ONDEMAND_EKS_LOG_LEVEL"],
    description: `least severe log lines written (${LOG_LEVELS.join(", ")})`,
    parse: oneOf(LOG_LEVELS),
    default: "info" as LogLevel,
    scopes: [...SERVERS, "lambda"],
  }),
  dryRun: setting({
    key: "dryRun",
    flag: "--dry-run",
    env: ["ONDEMAND_EKS_DRY_RUN"],
    inConfigFile: false,
    description:
      "let the API server validate each Job (outcome dry-run) or pool Deployment without storing it",
    parse: boolean,
    default: false,
    scopes: ["schedule", "serve-http", "reconcile-deployments"],
  }),
  concurrency: setting({
    key: "concurrency",
    flag: "--concurrency",
    placeholder: "<n>",
    env: ["ONDEMAND_EKS_SQS_CONCURRENCY"],
    description: "SQS messages in progress at once",
    parse: wholeNumber(1, 100),
    default: 10,
    scopes: ["consume-sqs", "lambda"],
  }),
} satisfies Record<string, Setting>;

/**
 * The settings of the scheduler and its runtime, in the order `--help` and the README
 * list them; an entry point adds its own (the command's listener and SQS settings).
 */
export const SETTINGS: readonly Setting[] = [
  ...Object.values(SCHEDULER_SETTINGS),
  ...Object.values(RUNTIME_SETTINGS),
];
