/**
 * How a Submitter reaches and authenticates to one API server. Implementations: from a
 * kubeconfig, in-cluster (ServiceAccount token), and EKS IAM tokens (@ondemand-eks/eks-auth).
 */
export interface ClusterAuth {
  /** The API server's base URL, such as `https://10.0.0.1:443`. */
  readonly server: string;
  /** TLS settings for the submitter's connection pool; fixed for its lifetime. */
  readonly tls: ClusterTls;
  /** Where the credentials come from, for error messages. Never contains a secret. */
  readonly description: string;
  /**
   * Headers for one request (typically `Authorization`); called before every request.
   * An error with `retryable: true` (credentials briefly unavailable) is retried within
   * the submission's deadline; any other error ends it as `unavailable`.
   */
  headers(): Promise<Record<string, string>>;
  /**
   * Called once after the API server answered 401. Resolves true when it found newer
   * credentials (a rotated token file, a fresh IAM token), so one retry may succeed.
   */
  refresh?(): Promise<boolean>;
}

export interface ClusterTls {
  /** PEM certificates to trust instead of the system's. */
  ca?: string | Buffer;
  /** Client certificate and key (PEM), for certificate authentication. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** TLS server name, when it differs from the server URL's host. */
  servername?: string;
  /** `false` only when a kubeconfig says insecure-skip-tls-verify. */
  rejectUnauthorized?: boolean;
}
