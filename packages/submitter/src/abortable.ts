/** An error that classifies as an attempt timeout (see classify.ts). */
function abortError(): Error {
  const error = new Error("request timed out");
  error.name = "AbortError";
  return error;
}

/**
 * Settles with `promise`, or rejects when `signal` aborts first. The work behind the
 * promise is not stopped (a hung credential plugin, say); it is only no longer waited for,
 * so nothing the submitter awaits can outlive the deadline.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
