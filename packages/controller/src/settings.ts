import {
  httpUrl,
  oneOf,
  type Setting,
  secondsAsMs,
  setting,
  text,
} from "@ondemand-eks/core/config";

/** Where Buildkite's agent and Stacks APIs are. */
export const BUILDKITE_DEFAULT_ENDPOINT = "https://agent.buildkite.com/v3";

const seconds = (ms: number) => String(ms / 1000);

/**
 * Where Buildkite is read: the controller, and the long-running entry points that check a
 * late event's job before making its Job (given a cluster token).
 */
const CHECKERS = ["controller", "serve-http", "consume-sqs"] as const;

/** The checkers and the Lambda event function, which reads its token by ARN or variable. */
const CHECKERS_AND_LAMBDA = [...CHECKERS, "lambda"] as const;

/**
 * The controller's own settings, beside the scheduler's (queues, namespaces, caps) and the
 * runtime's (cluster, library, logging). Declared in the one settings table, so the
 * `controller` command's flags, `--help`, environment and config file come from here.
 */
export const CONTROLLER_SETTINGS = {
  buildkiteEndpoint: setting({
    key: "buildkiteEndpoint",
    flag: "--buildkite-endpoint",
    placeholder: "<url>",
    env: ["ONDEMAND_EKS_BUILDKITE_ENDPOINT"],
    description: "Buildkite's agent API, where the Stacks API is",
    parse: httpUrl,
    default: BUILDKITE_DEFAULT_ENDPOINT,
    scopes: CHECKERS_AND_LAMBDA,
  }),
  clusterToken: setting({
    key: "clusterToken",
    env: ["BUILDKITE_CLUSTER_TOKEN"],
    inConfigFile: false,
    secret: true,
    description:
      "a cluster agent token of the cluster whose queues are served (never a flag: ps shows flags)",
    parse: text,
    scopes: CHECKERS_AND_LAMBDA,
  }),
  clusterTokenFile: setting({
    key: "clusterTokenFile",
    flag: "--cluster-token-file",
    placeholder: "<file>",
    env: ["ONDEMAND_EKS_CLUSTER_TOKEN_FILE"],
    description: "file holding the cluster agent token (instead of BUILDKITE_CLUSTER_TOKEN)",
    parse: text,
    scopes: CHECKERS,
  }),
  stackKey: setting({
    key: "stackKey",
    flag: "--stack-key",
    placeholder: "<key>",
    env: ["ONDEMAND_EKS_STACK_KEY"],
    description: "prefix of the Buildkite stacks registered, one per queue: <key>-<queue>",
    parse: (raw) =>
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(raw.trim())
        ? { value: raw.trim() }
        : { expected: "letters, digits, '.', '_' or '-', at most 63" },
    default: "ondemand-eks",
    scopes: CHECKERS_AND_LAMBDA,
  }),
  staleEventMs: setting({
    key: "staleEventSeconds",
    flag: "--stale-event-seconds",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_STALE_EVENT_SECONDS"],
    description:
      "with a cluster token, an event this much older than its job is checked in Buildkite first: a late redelivery of a job already over makes no Job",
    parse: secondsAsMs(1, 86_400),
    default: 60_000,
    showDefault: seconds,
    scopes: ["serve-http", "consume-sqs", "lambda"],
  }),
  reconcileIntervalMs: setting({
    key: "reconcileIntervalSeconds",
    flag: "--reconcile-interval-seconds",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_RECONCILE_INTERVAL_SECONDS"],
    description:
      "time between passes: a job whose event was lost starts within one; so does a cancellation or a failure to start",
    parse: secondsAsMs(1, 3_600),
    default: 10_000,
    showDefault: seconds,
    scopes: ["controller"],
  }),
  imagePullGraceMs: setting({
    key: "imagePullGraceSeconds",
    flag: "--image-pull-grace-seconds",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_IMAGE_PULL_GRACE_SECONDS"],
    description:
      "how long an image pull error or a missing Secret or ConfigMap may last before the job fails",
    parse: secondsAsMs(0, 86_400),
    default: 30_000,
    showDefault: seconds,
    scopes: ["controller"],
  }),
  pendingTimeoutMs: setting({
    key: "pendingTimeoutSeconds",
    flag: "--pending-timeout-seconds",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_PENDING_TIMEOUT_SECONDS"],
    description: "how long a pod may stay pending (unschedulable, say) before the job fails",
    parse: secondsAsMs(1, 604_800),
    default: 900_000,
    showDefault: seconds,
    scopes: ["controller"],
  }),
  emptyJobGraceMs: setting({
    key: "emptyJobGraceSeconds",
    flag: "--empty-job-grace-seconds",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_EMPTY_JOB_GRACE_SECONDS"],
    description:
      "how long a Job may have no pod (quota, missing ServiceAccount) before the job fails",
    parse: secondsAsMs(1, 86_400),
    default: 30_000,
    showDefault: seconds,
    scopes: ["controller"],
  }),
  stoppedRetentionMs: setting({
    key: "stoppedRetentionSeconds",
    flag: "--stopped-retention-seconds",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_STOPPED_RETENTION_SECONDS"],
    description:
      "how long a stopped Job (cancelled, or failed to start) is kept, suspended, so a late duplicate event cannot start it again",
    parse: secondsAsMs(0, 2_592_000),
    default: 3_600_000,
    showDefault: seconds,
    scopes: ["controller"],
  }),
  leaseNamespace: setting({
    key: "leaseNamespace",
    flag: "--lease-namespace",
    placeholder: "<namespace>",
    env: ["ONDEMAND_EKS_LEASE_NAMESPACE", "POD_NAMESPACE"],
    description: "namespace of the Lease that elects the replica that acts",
    parse: text,
    default: "ondemand-eks",
    scopes: ["controller"],
  }),
  leaseName: setting({
    key: "leaseName",
    flag: "--lease-name",
    placeholder: "<name>",
    env: ["ONDEMAND_EKS_LEASE_NAME"],
    description: "name of that Lease",
    parse: text,
    default: "ondemand-eks-controller",
    scopes: ["controller"],
  }),
  leaseDurationMs: setting({
    key: "leaseDurationSeconds",
    flag: "--lease-duration-seconds",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_LEASE_DURATION_SECONDS"],
    description: "how long a replica that stopped renewing keeps the Lease: the longest failover",
    parse: secondsAsMs(1, 300),
    default: 15_000,
    showDefault: seconds,
    scopes: ["controller"],
  }),
  pools: setting({
    key: "pools",
    flag: "--pools",
    placeholder: "<manage|off>",
    env: ["ONDEMAND_EKS_POOLS"],
    description:
      "manage: keep one Deployment per long-polling definition (created, updated, deleted with the library); off: leave Deployments alone",
    parse: oneOf(["manage", "off"] as const),
    default: "manage",
    scopes: ["controller"],
  }),
  poolScaling: setting({
    key: "poolScaling",
    flag: "--pool-scaling",
    placeholder: "<on|off>",
    env: ["ONDEMAND_EKS_POOL_SCALING"],
    description:
      "on: scale pools with `scaling` by queue depth; off: only serve the desired count (GET /pools/<name>) and leave replicas to KEDA or an HPA",
    parse: oneOf(["on", "off"] as const),
    default: "on",
    scopes: ["controller"],
  }),
  poolIntervalMs: setting({
    key: "poolIntervalSeconds",
    flag: "--pool-interval-seconds",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_POOL_INTERVAL_SECONDS"],
    description:
      "time between pool rounds (apply the pools, read queue metrics, scale); Buildkite's metrics are read at most every 10 s",
    parse: secondsAsMs(10, 3_600),
    default: 10_000,
    showDefault: seconds,
    scopes: ["controller"],
  }),
} satisfies Record<string, Setting>;
