/**
 * The sizes the Stacks API's peers keep to, and the helpers that keep to them. Buildkite
 * documents none of these; each one names the peer code it comes from.
 */

/** Job uuids per `batch-reserve` request: agent-stack-k8s `internal/controller/reserver/reserver.go` (chunks of 1000). */
export const RESERVE_CHUNK = 1000;

/** Job uuids per `get-states` request (no peer sends more than a handful; kept small). */
export const STATES_CHUNK = 100;

/** Notifications per request: agent-stack-k8s `api/stack_notification_batcher.go` (`maxNotificationsPerBatch`). */
export const NOTIFY_CHUNK = 1000;

/** Bytes of a `finish` detail: buildkite/stacksapi `finish.go` crops it to 4 KiB. */
export const FINISH_DETAIL_BYTES = 4 * 1024;

/** Bytes of a notification's detail: agent-stack-k8s `api/agent_client.go` crops it to 255. */
export const NOTIFICATION_DETAIL_BYTES = 255;

/** Pages `scheduledJobs` follows before it calls the server's paging broken. */
export const MAX_PAGES = 1000;

const CROPPED = "… (cropped)";

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, ending in "… (cropped)" when it was cut;
 * never splits a character.
 *
 * @example
 * cropUtf8("x".repeat(5000), 4096); // 4096 bytes: "xxx…… (cropped)"
 */
export function cropUtf8(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  const budget = maxBytes - encoder.encode(CROPPED).length;
  let bytes = 0;
  let end = 0;
  for (const character of text) {
    const size = encoder.encode(character).length;
    if (bytes + size > budget) break;
    bytes += size;
    end += character.length;
  }
  return text.slice(0, end) + CROPPED;
}

/**
 * `items` in consecutive chunks of at most `size`.
 *
 * @example
 * chunks([1, 2, 3], 2); // [[1, 2], [3]]
 */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}
