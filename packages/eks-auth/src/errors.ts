/** A problem with EKS authentication, with what to do about it in the message. */
export class EksAuthError extends Error {
  /** A stable code: invalid-settings, cluster-not-found, access-denied, cluster-not-active, describe-failed, credentials. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "EksAuthError";
    this.code = code;
  }
}
