/**
 * The SG-like authorization server: OpenID Connect with discovery, `openid` required and `acr_values=L1`
 * (the id_token carries `acr: "L1"`), the token and revocation endpoints also served on a separate mTLS host and
 * published as `mtls_endpoint_aliases` (RFC 8705 §5), `tls_client_auth` by the subject DN of the gateway's
 * QWAC, certificate-bound access tokens (`cnf.x5t#S256`), refresh tokens rotated on every use, the
 * `client_credentials` grant for `pisp`, 599 s access tokens. A rotated refresh token presented again is
 * counted as a double refresh (`/__sandbox/stats`: `banks.sg.doubleRefreshes`).
 */
import { randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import { baseConfiguration, countTokenRequests, sandboxRedirectUris } from '../authorization-server.js';
import { SG_PSUS } from '../data.js';
import type { FaultRegistry } from '../faults.js';
import type { SandboxStats } from '../stats.js';
import { consumeTokenFaults } from '../token-faults.js';
import { RefreshLedger, watchAnswer } from './refresh-ledger.js';
import { peerAuthorized, peerCertificate, subjectDn } from '../tls.js';

export const SG_SCOPES = ['openid', 'aisp', 'pisp', 'cbpii'] as const;
export const SG_ACR_VALUES = ['L1'] as const;
export const SG_ACCESS_TTL_SECONDS = 599;
const ROUTES = { authorization: '/oauth2/authorize', token: '/oauth2/token', revocation: '/oauth2/revoke', jwks: '/oauth2/jwks' };

export interface SgAuthorizationServer {
  readonly provider: Provider;
  readonly issuer: string;
  readonly discoveryUrl: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly mtlsTokenEndpoint: string;
  readonly revocationEndpoint: string;
  readonly mtlsRevocationEndpoint: string;
  readonly clientId: string;
  /** Every refresh token issued, consumed and refused, and how each token answer left (refresh-ledger.ts). */
  readonly ledger: RefreshLedger;
}

export function createSgAuthorizationServer(options: {
  /** Origin of the front host: authorize, discovery, JWKS. */
  origin: string;
  /** Origin of the mTLS host serving the same provider: token and revocation with client certificates. */
  mtlsOrigin: string;
  /** The gateway's QWAC: `tls_client_auth` matches its subject DN. */
  clientCertPem: string;
  accessTtlSeconds?: number;
  stats: SandboxStats;
  /** `target: 'token'` fault rules armed on the control plane (see token-faults.ts). */
  faults?: FaultRegistry;
}): SgAuthorizationServer {
  const issuer = options.origin;
  const clientId = `PSDFR-ACPR-SANDBOX-${randomBytes(4).toString('hex').toUpperCase()}`;
  const mtls = {
    token_endpoint: `${options.mtlsOrigin}${ROUTES.token}`,
    revocation_endpoint: `${options.mtlsOrigin}${ROUTES.revocation}`,
  };
  const base = baseConfiguration({ psus: SG_PSUS, accessTtlSeconds: options.accessTtlSeconds ?? SG_ACCESS_TTL_SECONDS });
  const provider = new Provider(issuer, {
    ...base,
    routes: ROUTES,
    scopes: [...SG_SCOPES],
    acrValues: [...SG_ACR_VALUES],
    clientAuthMethods: ['tls_client_auth'],
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: subjectDn(options.clientCertPem),
        tls_client_certificate_bound_access_tokens: true,
        application_type: 'native',
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        response_types: ['code'],
        redirect_uris: sandboxRedirectUris('sg'),
        scope: SG_SCOPES.join(' '),
      },
    ],
    // Every refresh returns a new refresh token and kills the one used; reusing it revokes the grant.
    rotateRefreshToken: true,
    discovery: { ...base.discovery, mtls_endpoint_aliases: mtls },
    extraParams: {
      // oidc-provider has no "openid is mandatory" switch. An extraParams validator runs on every authorization
      // request after redirect_uri is checked, so the error goes back to the client as an OAuth redirect.
      acr_values(ctx) {
        const scope = String(ctx.oidc.params?.scope ?? '').split(' ');
        if (!scope.includes('openid')) throw new errors.InvalidScope('the openid scope is required', 'openid');
      },
    },
    features: {
      ...base.features,
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      mTLS: {
        enabled: true,
        tlsClientAuth: true,
        certificateBoundAccessTokens: true,
        getCertificate: (ctx) => peerCertificate(ctx.req.socket),
        // The mTLS host requests a certificate without rejecting the handshake, so that a wrong certificate
        // gets an OAuth `invalid_client` instead of a bare TLS alert; here is where it must have chained to the CA.
        certificateAuthorized: (ctx) => peerAuthorized(ctx.req.socket),
        certificateSubjectMatches(ctx, property, expected) {
          const cert = peerCertificate(ctx.req.socket);
          return property === 'tls_client_auth_subject_dn' && cert !== undefined && subjectDn(cert) === expected;
        },
      },
    },
  });
  countTokenRequests(provider, 'sg', options.stats);
  const ledger = new RefreshLedger();
  // Registered before the faults: this middleware sees the answer a fault dropped, and its socket's fate.
  keepLedger(provider, options.stats, ledger, ROUTES.token);
  if (options.faults) consumeTokenFaults(provider, 'sg', options.faults, ROUTES.token);
  return {
    provider,
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    authorizationEndpoint: `${issuer}${ROUTES.authorization}`,
    tokenEndpoint: `${issuer}${ROUTES.token}`,
    mtlsTokenEndpoint: mtls.token_endpoint,
    revocationEndpoint: `${issuer}${ROUTES.revocation}`,
    mtlsRevocationEndpoint: mtls.revocation_endpoint,
    clientId,
    ledger,
  };
}

/**
 * Keeps the refresh ledger (refresh-ledger.ts) and counts a refresh token presented again after it was
 * rotated (`stats.doubleRefreshes`; oidc-provider refuses it with invalid_grant and revokes the grant).
 */
function keepLedger(provider: Provider, stats: SandboxStats, ledger: RefreshLedger, tokenPath: string): void {
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== tokenPath) return next();
    const answer = watchAnswer(ctx.res, () => (ctx.state as { sandboxFault?: string }).sandboxFault === 'drop-response');
    await next();
    const body = ctx.body as { refresh_token?: unknown } | undefined;
    const params = ctx.oidc?.params;
    if (ctx.status !== 200 || typeof body?.refresh_token !== 'string') return;
    const grantType = params?.grant_type === 'refresh_token' ? 'refresh_token' : 'authorization_code';
    answer.attach(ledger.issued(grantType, grantType === 'refresh_token' && typeof params?.refresh_token === 'string' ? params.refresh_token : undefined, body.refresh_token));
  });
  provider.on('grant.error', (ctx, error: { error?: string }) => {
    const params = ctx.oidc?.params;
    if (params?.grant_type !== 'refresh_token' || typeof params.refresh_token !== 'string') return;
    if (ledger.refused(params.refresh_token, error.error ?? 'server_error').kind === 'double_refresh') stats.doubleRefresh('sg');
  });
}
