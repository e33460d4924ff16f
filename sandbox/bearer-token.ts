/**
 * Resolves a bearer token the way a bank's resource server would ask its own authorization server: the sandbox
 * looks it up directly in the in-process oidc-provider, so expiry, revocation and rotation are the real ones.
 */
import type Provider from 'oidc-provider';

export interface BearerToken {
  /** `psu` for an authorization-code token, `client` for a client-credentials token. */
  readonly kind: 'psu' | 'client';
  readonly clientId: string;
  /** The PSU (sandbox PSU id) for `psu` tokens. */
  readonly accountId: string | undefined;
  readonly scopes: ReadonlySet<string>;
  /** RFC 8705 certificate binding, when the token is certificate-bound. */
  readonly x5tS256: string | undefined;
}

export type BearerResult = { ok: true; token: BearerToken } | { ok: false; reason: string };

/** Extracts the token of an `Authorization: Bearer …` header (RFC 6750 §2.1). */
export function bearerValue(authorization: string | null): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization ?? '');
  return match?.[1];
}

export async function resolveBearerToken(provider: Provider, authorization: string | null): Promise<BearerResult> {
  const value = bearerValue(authorization);
  if (!value) return { ok: false, reason: 'no bearer access token in the Authorization header' };

  const accessToken = await provider.AccessToken.find(value);
  if (accessToken && !accessToken.isExpired) {
    // A grant revoked by refresh-token reuse or by revocation takes its access tokens with it.
    if (accessToken.grantId && !(await provider.Grant.find(accessToken.grantId))) {
      return { ok: false, reason: 'the access token was revoked' };
    }
    return {
      ok: true,
      token: {
        kind: 'psu',
        clientId: String(accessToken.clientId),
        accountId: accessToken.accountId,
        scopes: new Set(String(accessToken.scope ?? '').split(' ').filter(Boolean)),
        x5tS256: accessToken['x5t#S256'],
      },
    };
  }

  const clientToken = await provider.ClientCredentials.find(value);
  if (clientToken && !clientToken.isExpired) {
    return {
      ok: true,
      token: {
        kind: 'client',
        clientId: String(clientToken.clientId),
        accountId: undefined,
        scopes: new Set(String(clientToken.scope ?? '').split(' ').filter(Boolean)),
        x5tS256: clientToken['x5t#S256'],
      },
    };
  }
  return { ok: false, reason: 'the access token is unknown or expired' };
}
