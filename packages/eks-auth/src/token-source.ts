import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { EksAuthError } from "./errors.js";
import { createToken, type EksToken } from "./token.js";

export interface TokenSourceOptions {
  clusterName: string;
  region: string;
  /** Where credentials come from; the AWS SDK's default chain by default (see eksAuth). */
  credentials: AwsCredentialIdentityProvider;
  /** Refresh this long before a token stops being accepted. Default 60 s (at 14 minutes). */
  refreshMarginMs?: number;
  /** Longest wait for the credential provider (STS, SSO, instance metadata). Default 15 s. */
  credentialsTimeoutMs?: number;
  /** For tests: the clock. */
  now?: () => number;
}

/** A token, and when to stop handing it out. */
export interface CachedToken extends EksToken {
  /** Refresh at or after this time: 14 minutes after signing, or earlier when the credentials expire sooner. */
  refreshAt: Date;
}

/** The least time a token is handed out for, even when its credentials are about to expire. */
const MIN_REUSE_MS = 5_000;

/**
 * Hands out EKS tokens, signing a new one only when the cached one is due for refresh:
 * 14 minutes after signing (tokens live 15), or a minute before the credentials behind it
 * expire, whichever is first. Concurrent callers share one signing; a signing that fails
 * while the cached token is still accepted hands out the cached token.
 */
export class TokenSource {
  readonly #options: TokenSourceOptions;
  readonly #now: () => number;
  readonly #margin: number;
  readonly #credentialsTimeout: number;
  #current: CachedToken | undefined;
  #pending: Promise<CachedToken> | undefined;
  #pendingForced = false;

  constructor(options: TokenSourceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#margin = options.refreshMarginMs ?? 60_000;
    this.#credentialsTimeout = options.credentialsTimeoutMs ?? 15_000;
  }

  /** A token the API server will accept for at least a few seconds more. */
  async get(): Promise<CachedToken> {
    const current = this.#current;
    if (current && this.#now() < current.refreshAt.getTime()) return current;
    try {
      return await (this.#pending ?? this.#start(false));
    } catch (error) {
      // STS or instance metadata hiccuped: the old token still works for a while.
      if (
        current &&
        current === this.#current &&
        this.#now() < current.expiresAt.getTime() - MIN_REUSE_MS
      ) {
        return current;
      }
      throw error;
    }
  }

  /**
   * Signs a new token with fresh credentials, because the API server refused the current
   * one. Until it is ready nobody is handed the refused token; callers share this one
   * refresh, and one already running without fresh credentials is followed by this one.
   */
  refresh(): Promise<CachedToken> {
    this.#current = undefined;
    if (this.#pending && this.#pendingForced) return this.#pending;
    const before = this.#pending?.catch(() => undefined) ?? Promise.resolve(undefined);
    return this.#start(true, before);
  }

  #start(force: boolean, after: Promise<unknown> = Promise.resolve()): Promise<CachedToken> {
    const pending: Promise<CachedToken> = after
      .then(() => this.#sign(force))
      .finally(() => {
        if (this.#pending === pending) {
          this.#pending = undefined;
          this.#pendingForced = false;
        }
      });
    this.#pending = pending;
    this.#pendingForced = force;
    return pending;
  }

  async #credentials(force: boolean): Promise<AwsCredentialIdentity> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new EksAuthError(
              "EKS_CREDENTIALS",
              `no AWS credentials within ${this.#credentialsTimeout} ms (the credential provider did not answer)`,
            ),
          ),
        this.#credentialsTimeout,
      );
    });
    try {
      return await Promise.race([
        this.#options.credentials(force ? { forceRefresh: true } : undefined),
        timeout,
      ]);
    } catch (error) {
      if (error instanceof EksAuthError) throw error;
      throw new EksAuthError(
        "EKS_CREDENTIALS",
        `no AWS credentials to sign an EKS token with: ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async #sign(force: boolean): Promise<CachedToken> {
    let credentials = await this.#credentials(force);
    const expiresSoon = (c: AwsCredentialIdentity) =>
      c.expiration !== undefined && c.expiration.getTime() - this.#margin <= this.#now();
    // Credentials in their last minute (a cache that has not refreshed them yet): ask once for new ones.
    if (!force && expiresSoon(credentials)) credentials = await this.#credentials(true);
    const token = await createToken({
      clusterName: this.#options.clusterName,
      region: this.#options.region,
      credentials,
      signingDate: new Date(this.#now()),
    });
    let refreshAt = token.expiresAt.getTime() - this.#margin;
    if (credentials.expiration) {
      refreshAt = Math.min(refreshAt, credentials.expiration.getTime() - this.#margin);
    }
    // Never a refresh time in the past, which would sign a token for every request.
    refreshAt = Math.max(refreshAt, this.#now() + MIN_REUSE_MS);
    const cached: CachedToken = { ...token, refreshAt: new Date(refreshAt) };
    this.#current = cached;
    return cached;
  }
}
