import type * as oauth from 'oauth4webapi';
import type { TokenSet } from '../store/connection.js';

/**
 * Keeps what the gateway needs of a token response; a non-rotating bank keeps its old refresh token.
 * `thumbprint` is the client certificate the request went out with (certificate-bound tokens, RFC 8705).
 */
export function toTokenSet(response: oauth.TokenEndpointResponse, now: number, previousRefreshToken?: string, thumbprint?: string): TokenSet {
  const expiresIn = typeof response.expires_in === 'number' && response.expires_in > 0 ? response.expires_in : 300;
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token ?? previousRefreshToken,
    expiresAt: now + expiresIn * 1000,
    expiresIn,
    scope: response.scope,
    ...(thumbprint ? { certificateThumbprint: thumbprint } : {}),
  };
}

/**
 * When to refresh: `skew` seconds before expiry, capped at a quarter of the lifetime so that a short-lived
 * token (a sandbox's 2 s) is not refreshed on every call.
 */
export function refreshAt(tokens: TokenSet, skewSeconds: number): number {
  const skew = Math.min(skewSeconds, tokens.expiresIn / 4) * 1000;
  return tokens.expiresAt - skew;
}

export type Freshness = 'fresh' | 'refresh_soon' | 'expired';

/**
 * `fresh`: use it. `refresh_soon`: use it, and refresh in the background. `expired`: wait for a refresh.
 * A token obtained under another client certificate than the transport presents now counts as expired: the
 * bank would refuse a certificate-bound token over the new certificate. A set recorded without a
 * thumbprint (or a transport without one) is judged by time alone.
 */
export function freshnessOf(tokens: TokenSet, now: number, skewSeconds: number, thumbprint: string | undefined): Freshness {
  if (thumbprint !== undefined && tokens.certificateThumbprint !== undefined && tokens.certificateThumbprint !== thumbprint) return 'expired';
  if (now >= tokens.expiresAt) return 'expired';
  return now >= refreshAt(tokens, skewSeconds) ? 'refresh_soon' : 'fresh';
}
