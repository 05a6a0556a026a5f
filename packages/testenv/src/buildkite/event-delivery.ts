import { createHmac } from "node:crypto";
import type { EmulatedJob } from "./emulated-job.js";
import {
  type EventBridgeOrigin,
  eventBridgeEvent,
  type JobScheduledEvent,
  webhookBody,
} from "./job-events.js";
import { type EmulatorState, mark } from "./state.js";

/**
 * Sends "Job Scheduled" for each new job to the configured targets, as Buildkite does:
 * a webhook POST (signed with `X-Buildkite-Signature`, or with `X-Buildkite-Token`), or an
 * EventBridge event handed to a function (put it on SQS, POST it to a Lambda emulator).
 * The job's timeline records `event sent` before each delivery and `event delivered` or
 * `event delivery failed` after it; a failed delivery never throws.
 */

/** A Buildkite webhook: `url` gets the body; `token` signs it (`signed`) or rides along. */
export interface WebhookTarget {
  readonly kind: "webhook";
  readonly url: string;
  readonly token: string;
  /** `X-Buildkite-Signature` (HMAC-SHA256) when true, else `X-Buildkite-Token`. */
  readonly signed?: boolean;
}

/** An EventBridge rule's target: `send` gets the whole event. */
export interface EventBridgeTarget extends EventBridgeOrigin {
  readonly kind: "eventbridge";
  send(event: JobScheduledEvent): Promise<void>;
}

export type DeliveryTarget = WebhookTarget | EventBridgeTarget;

/** How long a webhook receiver may take to answer. */
const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * The `X-Buildkite-Signature` header for `body` sent at `timestamp` (Unix seconds).
 *
 * @example
 * signatureHeader("secret", 1700000000, '{"event":"ping"}');
 * // "timestamp=1700000000,signature=<64 hex digits>"
 */
export function signatureHeader(token: string, timestamp: number, body: string): string {
  const signature = createHmac("sha256", token).update(`${timestamp}.${body}`).digest("hex");
  return `timestamp=${timestamp},signature=${signature}`;
}

/** POSTs the webhook; resolves to the result to record, e.g. `HTTP 200`. */
async function postWebhook(target: WebhookTarget, job: EmulatedJob, now: number) {
  const body = JSON.stringify(webhookBody(job));
  const auth: Record<string, string> = target.signed
    ? { "x-buildkite-signature": signatureHeader(target.token, Math.floor(now / 1000), body) }
    : { "x-buildkite-token": target.token };
  const response = await fetch(target.url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-buildkite-event": "job.scheduled", ...auth },
    body,
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  await response.arrayBuffer();
  return { ok: response.ok, result: `HTTP ${response.status}` };
}

/** A short name for a target in the timeline. */
function describe(target: DeliveryTarget, job: EmulatedJob): string {
  if (target.kind === "webhook") return `webhook ${target.url}`;
  return `eventbridge ${job.env.BUILDKITE_ORGANIZATION_SLUG}`;
}

/**
 * Delivers "Job Scheduled" for `job` to `target`, recording both ends in its timeline.
 * Never rejects.
 *
 * @example
 * await deliver(state, job, { kind: "webhook", url, token: "secret", signed: true });
 * job.timeline; // [..., {event: "event sent", ...}, {event: "event delivered", detail: "webhook ...: HTTP 200"}]
 */
export async function deliver(
  state: EmulatorState,
  job: EmulatedJob,
  target: DeliveryTarget,
): Promise<void> {
  const name = describe(target, job);
  mark(state, job, "event sent", name);
  try {
    if (target.kind === "webhook") {
      const { ok, result } = await postWebhook(target, job, state.now());
      mark(state, job, ok ? "event delivered" : "event delivery failed", `${name}: ${result}`);
    } else {
      await target.send(eventBridgeEvent(job, target, new Date(state.now())));
      mark(state, job, "event delivered", `${name}: sent`);
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    mark(state, job, "event delivery failed", `${name}: ${reason}`);
  }
}
