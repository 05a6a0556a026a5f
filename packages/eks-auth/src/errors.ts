/** A problem with EKS authentication, with what to do about it in the message. */
export class EksAuthError extends Error {
  /** A stable code: invalid-settings, cluster-not-found, access-denied, cluster-not-active, describe-failed, credentials. */
  readonly code: string;

  /**
   * Whether trying again may succeed: true for credentials that could not be had (an
   * instance metadata or STS hiccup). The submitter retries these within its deadline.
   */
  readonly retryable: boolean;

  constructor(code: string, message: string) {
    super(message);
    this.name = "EksAuthError";
    this.code = code;
    this.retryable = code === "credentials";
  }
}
