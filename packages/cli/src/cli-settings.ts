import {
  boolean,
  httpUrl,
  type Setting,
  secondsAsMs,
  setting,
  text,
  wholeNumber,
} from "@ondemand-eks/core/config";
import { SETTINGS } from "@ondemand-eks/runtime";

const SERVERS = ["serve-http", "consume-sqs"] as const;

/**
 * The command's own settings, beside the scheduler's and the runtime's: its config file,
 * what `serve http` listens on and accepts, and the queue `consume sqs` reads. Declared
 * like every other setting, so flags, `--help`, environment and config file come from
 * the same table.
 */
export const CLI_SETTINGS = {
  config: setting({
    key: "config",
    flag: "--config",
    placeholder: "<file>",
    env: ["ONDEMAND_EKS_CONFIG"],
    inConfigFile: false,
    description: "YAML or JSON file of settings, by their config keys (README: Settings)",
    parse: text,
    scopes: ["render", "render-deployment", "validate", "schedule", "serve-http", "consume-sqs"],
  }),
  port: setting({
    key: "port",
    flag: "--port",
    placeholder: "<number>",
    env: ["PORT"],
    description: "port to listen on (consume sqs: of /healthz, /readyz and /metrics)",
    parse: wholeNumber(0, 65_535),
    default: 8080,
    scopes: [...SERVERS],
  }),
  host: setting({
    key: "host",
    flag: "--host",
    placeholder: "<address>",
    env: ["ONDEMAND_EKS_HOST"],
    description: "address to listen on",
    parse: text,
    default: "0.0.0.0",
    scopes: [...SERVERS],
  }),
  webhookToken: setting({
    key: "webhookToken",
    env: ["BUILDKITE_WEBHOOK_TOKEN"],
    inConfigFile: false,
    secret: true,
    description: "the webhook token (never a flag: ps shows flags)",
    parse: text,
    scopes: ["serve-http"],
  }),
  webhookTokenFile: setting({
    key: "webhookTokenFile",
    flag: "--webhook-token-file",
    placeholder: "<file>",
    env: ["ONDEMAND_EKS_WEBHOOK_TOKEN_FILE"],
    description: "file holding the webhook token (instead of BUILDKITE_WEBHOOK_TOKEN)",
    parse: text,
    scopes: ["serve-http"],
  }),
  requireSignature: setting({
    key: "requireSignature",
    flag: "--require-signature",
    env: ["ONDEMAND_EKS_REQUIRE_SIGNATURE"],
    description: "accept only X-Buildkite-Signature, not a plain X-Buildkite-Token",
    parse: boolean,
    default: false,
    scopes: ["serve-http"],
  }),
  signatureWindowMs: setting({
    key: "signatureWindowSeconds",
    flag: "--signature-window",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_SIGNATURE_WINDOW_SECONDS"],
    description: "largest accepted signature age",
    parse: secondsAsMs(1, 86_400),
    default: 300_000,
    showDefault: (ms) => String(ms / 1000),
    scopes: ["serve-http"],
  }),
  bodyLimit: setting({
    key: "bodyLimit",
    flag: "--body-limit",
    placeholder: "<bytes>",
    env: ["ONDEMAND_EKS_BODY_LIMIT"],
    description: "largest accepted webhook body",
    parse: wholeNumber(1_024, 64 * 1024 * 1024, "bytes"),
    default: 1024 * 1024,
    scopes: ["serve-http"],
  }),
  queueUrl: setting({
    key: "queueUrl",
    flag: "--queue-url",
    placeholder: "<url>",
    env: ["ONDEMAND_EKS_SQS_QUEUE_URL"],
    description: "the SQS queue's URL",
    parse: httpUrl,
    scopes: ["consume-sqs"],
    requiredIn: ["consume-sqs"],
  }),
  waitSeconds: setting({
    key: "waitSeconds",
    flag: "--wait",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_SQS_WAIT_SECONDS"],
    description: "SQS long-poll wait",
    parse: wholeNumber(0, 20, "seconds"),
    default: 20,
    scopes: ["consume-sqs"],
  }),
  visibilityTimeoutSeconds: setting({
    key: "visibilityTimeoutSeconds",
    flag: "--visibility-timeout",
    placeholder: "<seconds>",
    env: ["ONDEMAND_EKS_SQS_VISIBILITY_TIMEOUT_SECONDS"],
    description: "visibility of a message in progress, extended as needed",
    parse: wholeNumber(2, 43_200, "seconds"),
    default: 60,
    scopes: ["consume-sqs"],
  }),
  sqsEndpoint: setting({
    key: "sqsEndpoint",
    flag: "--sqs-endpoint",
    placeholder: "<url>",
    env: ["ONDEMAND_EKS_SQS_ENDPOINT"],
    description: "another SQS endpoint (a local emulator)",
    parse: httpUrl,
    scopes: ["consume-sqs"],
  }),
} satisfies Record<string, Setting>;

/** Every setting there is, in the order `--help` and the README's table list them. */
export const ALL_SETTINGS: readonly Setting[] = [
  CLI_SETTINGS.config,
  ...SETTINGS,
  ...Object.values(CLI_SETTINGS).filter((declaration) => declaration !== CLI_SETTINGS.config),
];
