/** An abort signal for one call, and the release of what it holds. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Clears the timer and stops following the parent: call it when the call is over. */
  end(): void;
}

/**
 * A signal that aborts after `ms` (with a `TimeoutError`) or when `parent` does. Unlike
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])` it holds nothing once `end()` is
 * called: on Node 20 each `AbortSignal.any` over a long-lived signal stays referenced
 * from it (nodejs/node#55351), and each `AbortSignal.timeout` keeps its timer until it
 * fires, which for a receive is the whole poll plus ten seconds.
 *
 * @example
 * ```ts
 * const call = deadline(30_000, stopping.signal);
 * try {
 *   await client.send(command, { abortSignal: call.signal });
 * } finally {
 *   call.end();
 * }
 * ```
 */
export function deadline(ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener("abort", onParentAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError")),
    ms,
  );
  timer.unref?.();
  return {
    signal: controller.signal,
    end() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}
