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
  /** For tests: the clock. */
  now?: () => number;
}

/** A token, and when to stop handing it out. */
export interface CachedToken extends EksToken {
  /** Refresh at or after this time: 14 minutes after signing, or earlier when the credentials expire sooner. */
  refreshAt: Date;
}

/**
 * Hands out EKS tokens, signing a new one only when the cached one is due for refresh:
 * 14 minutes after signing (tokens live 15), or a minute before the credentials behind it
 * expire, whichever is first. Concurrent callers during a refresh share one signing.
 */
export class TokenSource {
  readonly #options: TokenSourceOptions;
  readonly #now: () => number;
  readonly #margin: number;
  #current: CachedToken | undefined;
  #pending: Promise<CachedToken> | undefined;

  constructor(options: TokenSourceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#margin = options.refreshMarginMs ?? 60_000;
  }

  /** A token valid for at least the refresh margin. */
  get(): Promise<CachedToken> {
    const current = this.#current;
    if (current && this.#now() < current.refreshAt.getTime()) return Promise.resolve(current);
    return this.#refresh(false);
  }

  /** Signs a new token now (after the API server refused the last one), asking for fresh credentials too. */
  refresh(): Promise<CachedToken> {
    return this.#refresh(true);
  }

  #refresh(force: boolean): Promise<CachedToken> {
    this.#pending ??= this.#sign(force).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #sign(force: boolean): Promise<CachedToken> {
    let credentials: AwsCredentialIdentity;
    try {
      credentials = await this.#options.credentials(force ? { forceRefresh: true } : undefined);
    } catch (error) {
      throw new EksAuthError(
        "credentials",
        `no AWS credentials to sign an EKS token with: ${(error as Error).message}`,
      );
    }
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
    const cached: CachedToken = { ...token, refreshAt: new Date(refreshAt) };
    this.#current = cached;
    return cached;
  }
}
