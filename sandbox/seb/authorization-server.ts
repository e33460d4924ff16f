/**
 * The SEB-like authorization server: plain OAuth 2.0 (no `openid` needed) at SEB's static endpoints
 * `/mga/sps/oauth/oauth20/authorize` and `/mga/sps/oauth/oauth20/token`, `client_secret_post`,
 * scopes `psd2_accounts psd2_payments`, opaque access tokens of 3599 s, refresh tokens that are NOT rotated,
 * PKCE S256 required, RFC 9207 `iss` in the authorization response; and SEB's decoupled Mobile BankID login with
 * JSON bodies (`/auth/v3/authorizations` → poll → `/auth/v3/tokens`, bankid.ts), whose tokens are the same.
 */
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import { baseConfiguration, countTokenRequests, sandboxRedirectUris } from '../authorization-server.js';
import { SEB_PSUS } from '../data.js';
import type { FaultRegistry } from '../faults.js';
import type { SandboxStats } from '../stats.js';
import { consumeTokenFaults } from '../token-faults.js';
import { SEB_BANKID_GRANT, SebBankIdLogins } from './bankid.js';

export const SEB_SCOPES = ['psd2_accounts', 'psd2_payments'] as const;
export const SEB_ACCESS_TTL_SECONDS = 3599;
export const SEB_AUTHORIZE_PATH = '/mga/sps/oauth/oauth20/authorize';
export const SEB_TOKEN_PATH = '/mga/sps/oauth/oauth20/token';

export interface SebAuthorizationServer {
  readonly provider: Provider;
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The decoupled Mobile BankID login (`/auth/v3/…` and the sandbox simulator); `handle` serves it. */
  readonly bankId: SebBankIdLogins;
}

export function createSebAuthorizationServer(options: {
  origin: string;
  accessTtlSeconds?: number;
  stats: SandboxStats;
  /** `target: 'token'` fault rules armed on the control plane (see token-faults.ts). */
  faults?: FaultRegistry;
}): SebAuthorizationServer {
  const issuer = options.origin;
  const clientId = `bankgate-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const base = baseConfiguration({ psus: SEB_PSUS, accessTtlSeconds: options.accessTtlSeconds ?? SEB_ACCESS_TTL_SECONDS });
  const provider = new Provider(issuer, {
    ...base,
    routes: { authorization: SEB_AUTHORIZE_PATH, token: SEB_TOKEN_PATH },
    scopes: [...SEB_SCOPES],
    clientAuthMethods: ['client_secret_post'],
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        token_endpoint_auth_method: 'client_secret_post',
        application_type: 'native',
        grant_types: ['authorization_code', 'refresh_token', SEB_BANKID_GRANT],
        response_types: ['code'],
        redirect_uris: sandboxRedirectUris('seb'),
        scope: SEB_SCOPES.join(' '),
      },
    ],
    // SEB keeps the refresh token: the same one works until the consent ends.
    rotateRefreshToken: false,
  });
  // Registered before the client is first loaded: its grant_types name this grant.
  const bankId = new SebBankIdLogins(provider, clientId, SEB_SCOPES, SEB_TOKEN_PATH);
  countTokenRequests(provider, 'seb', options.stats);
  if (options.faults) consumeTokenFaults(provider, 'seb', options.faults, SEB_TOKEN_PATH);
  return {
    provider,
    issuer,
    authorizationEndpoint: `${issuer}${SEB_AUTHORIZE_PATH}`,
    tokenEndpoint: `${issuer}${SEB_TOKEN_PATH}`,
    clientId,
    clientSecret,
    bankId,
  };
}
