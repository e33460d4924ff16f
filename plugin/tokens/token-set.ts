import type * as oauth from 'oauth4webapi';
import type { TokenSet } from '../store/connection.js';

/** Keeps what the gateway needs of a token response; a non-rotating bank keeps its old refresh token. */
export function toTokenSet(response: oauth.TokenEndpointResponse, now: number, previousRefreshToken?: string): TokenSet {
  const expiresIn = typeof response.expires_in === 'number' && response.expires_in > 0 ? response.expires_in : 300;
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token ?? previousRefreshToken,
    expiresAt: now + expiresIn * 1000,
    expiresIn,
    scope: response.scope,
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
