/**
 * The Berlin-Group-like bank's OAuth server (oidc-provider), for the OAuth SCA approach and the OAuth pre-step:
 *   - RFC 8414 metadata at `/.well-known/oauth-authorization-server` (the `scaOAuth` link), OIDC discovery too;
 *   - authorization code + PKCE (S256) only, RFC 9207 `iss`;
 *   - scopes bound to a resource, not static: `AIS:<consentId>` / `PIS:<paymentId>` (OAuth SCA of that consent or
 *     payment: the PSU's login authorises it) and `AIS` / `PIS` (pre-step: the PSU's login before any consent);
 *     they are resource-server scopes of oidc-provider's resource indicators (RFC 8707), defaulted to the XS2A API;
 *   - the client is the TPP's QWAC: `client_id` is the certificate's organizationIdentifier (no registration),
 *     `tls_client_auth` on a separate mTLS host (`mtls_endpoint_aliases`), certificate-bound access tokens;
 *   - refresh tokens only for AIS, rotated on every use, living until the consent's validUntil.
 */
import Provider, { errors } from 'oidc-provider';
import { baseConfiguration, countTokenRequests, sandboxRedirectUris } from '../authorization-server.js';
import type { FaultRegistry } from '../faults.js';
import type { SandboxStats } from '../stats.js';
import { consumeTokenFaults } from '../token-faults.js';
import { peerAuthorized, peerCertificate, subjectDn } from '../tls.js';
import type { BgBank } from './bank.js';
import { Consent } from './consents.js';
import { BG_PSUS } from './psus.js';

export const BG_ACCESS_TTL_SECONDS = 3600;
const ROUTES = { authorization: '/oauth2/authorize', token: '/oauth2/token', revocation: '/oauth2/revoke', jwks: '/oauth2/jwks' };
/** The scopes this server grants: bound to a consent / payment, or the pre-step's generic ones. */
export const BG_SCOPE = /^(AIS|PIS)(:[A-Za-z0-9-]+)?$/;
const DAY_SECONDS = 86_400;

export interface BgAuthorizationServer {
  readonly provider: Provider;
  readonly issuer: string;
  /** RFC 8414 metadata: the `scaOAuth` link. */
  readonly metadataUrl: string;
  readonly discoveryUrl: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly mtlsTokenEndpoint: string;
  readonly mtlsRevocationEndpoint: string;
  readonly clientId: string;
  /** The resource indicator of the XS2A API (`https://127.0.0.1:<port>/psd2`): every token's audience. */
  readonly resource: string;
  /** Revokes a grant with its tokens (a consent that ended). */
  revokeGrant(grantId: string): Promise<void>;
}

/** The scopes of a request this server may grant, from the authorization request or the code/refresh token. */
function requestedScopes(ctx: { oidc: { params?: Record<string, unknown>; entities: Record<string, { scope?: string } | undefined> } }): string {
  const sources = [ctx.oidc.params?.scope, ctx.oidc.entities.AuthorizationCode?.scope, ctx.oidc.entities.RefreshToken?.scope];
  const scopes = sources.filter((s): s is string => typeof s === 'string').flatMap((s) => s.split(' '));
  return [...new Set(scopes.filter((scope) => BG_SCOPE.test(scope)))].join(' ');
}

export function createBgAuthorizationServer(options: {
  /** Front host: authorize, metadata, the bank's pages. */
  origin: string;
  /** mTLS host: token and revocation with the TPP's certificate. */
  mtlsOrigin: string;
  /** The TPP's QWAC: `tls_client_auth` matches its subject DN. */
  clientCertPem: string;
  /** The TPP's organizationIdentifier: its client_id. */
  clientId: string;
  resource: string;
  bank: () => BgBank;
  accessTtlSeconds?: number;
  stats: SandboxStats;
  faults?: FaultRegistry;
}): BgAuthorizationServer {
  const issuer = options.origin;
  const mtls = { token_endpoint: `${options.mtlsOrigin}${ROUTES.token}`, revocation_endpoint: `${options.mtlsOrigin}${ROUTES.revocation}` };
  const base = baseConfiguration({ psus: BG_PSUS, accessTtlSeconds: options.accessTtlSeconds ?? BG_ACCESS_TTL_SECONDS });
  const provider = new Provider(issuer, {
    ...base,
    routes: ROUTES,
    // No static scope: AIS:<id>, PIS:<id>, AIS, PIS are resource-server scopes (features.resourceIndicators).
    scopes: [],
    clientAuthMethods: ['tls_client_auth'],
    clients: [
      {
        client_id: options.clientId,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: subjectDn(options.clientCertPem),
        tls_client_certificate_bound_access_tokens: true,
        application_type: 'native',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: sandboxRedirectUris('bg'),
      },
    ],
    rotateRefreshToken: true,
    // Refresh tokens for account information only: a payment's token is used once, for that payment.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.kind === 'AuthorizationCode' && String(code.scope ?? '').split(' ').some((s) => s.startsWith('AIS')),
    ttl: {
      ...(base.ttl as object),
      // A consent's refresh token lives as long as the consent may: until the end of its validUntil.
      RefreshToken(_ctx, token) {
        const consentScope = String(token.scope ?? '').split(' ').find((s) => s.startsWith('AIS:'));
        const consent = consentScope ? options.bank().subjectOfScope(consentScope) : undefined;
        if (!(consent instanceof Consent)) return 90 * DAY_SECONDS;
        const end = Date.parse(`${consent.granted.validUntil}T23:59:59Z`);
        return Math.max(60, Math.floor((end - options.bank().clock.now()) / 1000));
      },
    },
    discovery: { ...base.discovery, mtls_endpoint_aliases: mtls },
    features: {
      ...base.features,
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => options.resource,
        useGrantedResource: () => true,
        getResourceServerInfo(ctx, resource) {
          if (resource !== options.resource) throw new errors.InvalidTarget(`the only resource is ${options.resource}`);
          return { scope: requestedScopes(ctx as never), accessTokenFormat: 'opaque', audience: options.resource };
        },
      },
      mTLS: {
        enabled: true,
        tlsClientAuth: true,
        certificateBoundAccessTokens: true,
        getCertificate: (ctx) => peerCertificate(ctx.req.socket),
        certificateAuthorized: (ctx) => peerAuthorized(ctx.req.socket),
        certificateSubjectMatches(ctx, property, expected) {
          const cert = peerCertificate(ctx.req.socket);
          return property === 'tls_client_auth_subject_dn' && cert !== undefined && subjectDn(cert) === expected;
        },
      },
    },
  });
  countTokenRequests(provider, 'bg', options.stats);
  if (options.faults) consumeTokenFaults(provider, 'bg', options.faults, ROUTES.token);
  return {
    provider,
    issuer,
    metadataUrl: `${issuer}/.well-known/oauth-authorization-server`,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    authorizationEndpoint: `${issuer}${ROUTES.authorization}`,
    tokenEndpoint: `${issuer}${ROUTES.token}`,
    mtlsTokenEndpoint: mtls.token_endpoint,
    mtlsRevocationEndpoint: mtls.revocation_endpoint,
    clientId: options.clientId,
    resource: options.resource,
    async revokeGrant(grantId) {
      const grant = await provider.Grant.find(grantId);
      await grant?.destroy();
    },
  };
}
