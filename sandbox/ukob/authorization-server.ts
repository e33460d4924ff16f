/**
 * The UK-OB-like authorization server: oidc-provider in FAPI mode, everything FAPI asks for checked by oidc-provider
 * itself (no hand-written verifier here):
 *   FAPI 2.0 (default)     PAR required, `response_type=code`, PKCE S256, `iss` in the authorization response,
 *                          request objects optional (PS256 when sent), `aud` of client assertions = the issuer;
 *   FAPI 1 Advanced        (`SANDBOX_UKOB_FAPI=1.0`) a PS256 signed request object required (by value or through PAR),
 *                          `response_type=code id_token` (the id_token a detached signature: `c_hash`, `s_hash`),
 *                          nonce required, PKCE required only with PAR.
 * In both: `private_key_jwt` (PS256, the TPP's JWKS registered) or `tls_client_auth`, certificate-bound access
 * tokens (RFC 8705) issued on a separate mTLS host published as `mtls_endpoint_aliases`, client credentials for the
 * intent endpoints, refresh tokens for account access, funds confirmation and VRP (not for single-use payments).
 * The intent binding is the sandbox's own code: every authorization request must carry `openbanking_intent_id` as an
 * essential claim naming an AWAU intent of the client (checked at PAR and at the authorization endpoint, and again
 * when the PSU approves, see interaction.ts); the intent id goes into the id_token and the access token.
 */
import { randomBytes } from 'node:crypto';
import Provider, { errors, type ClientMetadata, type Configuration, type JWK, type KoaContextWithOIDC, type ResponseType } from 'oidc-provider';
import { baseConfiguration, countTokenRequests, sandboxRedirectUris } from '../authorization-server.js';
import type { FaultRegistry } from '../faults.js';
import type { SandboxStats } from '../stats.js';
import { peerAuthorized, peerCertificate, subjectDn } from '../tls.js';
import { consumeTokenFaults } from '../token-faults.js';
import { findUkobPsu } from './data.js';
import type { IntentStore } from './intents.js';

/** `'2.0'`: FAPI 2.0 Security Profile; `'1.0'`: FAPI 1.0 Advanced (oidc-provider's `'1.0 Final'`). */
export type UkobFapiProfile = '2.0' | '1.0';

export const UKOB_SCOPES = ['openid', 'accounts', 'payments', 'fundsconfirmations'] as const;
/** The Open Banking ACRs: strong customer authentication, or authentication under an SCA exemption. */
export const UKOB_ACR_VALUES = ['urn:openbanking:psd2:sca', 'urn:openbanking:psd2:ca'] as const;
export const UKOB_ACCESS_TTL_SECONDS = 300;
export const INTENT_CLAIM = 'openbanking_intent_id';

const ROUTES = {
  authorization: '/as/authorize',
  token: '/as/token',
  pushed_authorization_request: '/as/par',
  jwks: '/as/jwks',
  revocation: '/as/revoke',
  userinfo: '/as/userinfo',
};

export interface UkobAuthorizationServer {
  readonly provider: Provider;
  readonly profile: UkobFapiProfile;
  readonly issuer: string;
  readonly discoveryUrl: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly mtlsTokenEndpoint: string;
  readonly parEndpoint: string;
  readonly mtlsParEndpoint: string;
  readonly mtlsRevocationEndpoint: string;
  readonly jwksUri: string;
  /** `private_key_jwt` client. */
  readonly clientId: string;
  /** `tls_client_auth` client (same TPP, same keys and certificate, another registration). */
  readonly mtlsClientId: string;
}

export interface UkobAuthorizationServerOptions {
  readonly origin: string;
  readonly mtlsOrigin: string;
  readonly profile: UkobFapiProfile;
  /** The TPP's public signing JWKS (registered as the clients' `jwks`) and transport certificate (`tls_client_auth`). */
  readonly tpp: { readonly jwks: { readonly keys: readonly JWK[] }; readonly transportCertPem: string; readonly jwsIssuer: string };
  readonly idTokenSigningKey: JWK;
  readonly intents: IntentStore;
  readonly accessTtlSeconds?: number;
  readonly stats: SandboxStats;
  readonly faults?: FaultRegistry;
}

/**
 * The intent an authorization request names: `openbanking_intent_id` requested as an essential claim with a value,
 * in `claims.id_token` and/or `claims.userinfo` (the same value in both). The reason when it does not.
 */
export function requestedIntentId(claimsParameter: unknown): { id: string } | { reason: string } {
  const missing = `the claims parameter must request ${INTENT_CLAIM} as an essential claim whose value is the intent's ConsentId ({"id_token":{"${INTENT_CLAIM}":{"value":"…","essential":true}}})`;
  if (typeof claimsParameter !== 'string') return { reason: missing };
  let parsed: { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> };
  try {
    parsed = JSON.parse(claimsParameter) as typeof parsed;
  } catch {
    return { reason: missing };
  }
  const requests = [parsed.id_token?.[INTENT_CLAIM], parsed.userinfo?.[INTENT_CLAIM]].filter((r) => r !== undefined) as Array<{ value?: unknown; essential?: unknown } | null>;
  if (requests.length === 0) return { reason: missing };
  const values = new Set<string>();
  for (const request of requests) {
    if (!request || typeof request.value !== 'string' || request.value === '') return { reason: `${INTENT_CLAIM} must be requested with a value (the ConsentId)` };
    if (request.essential !== true) return { reason: `${INTENT_CLAIM} must be requested as an essential claim ("essential": true)` };
    values.add(request.value);
  }
  if (values.size > 1) return { reason: `${INTENT_CLAIM} is requested with two different values in id_token and userinfo` };
  return { id: [...values][0]! };
}

function scopesOf(ctx: KoaContextWithOIDC): Set<string> {
  return new Set(String(ctx.oidc.params?.scope ?? '').split(' ').filter(Boolean));
}

/**
 * The bank's oidc-provider, configured for the profile, with the TPP registered twice (`private_key_jwt` and
 * `tls_client_auth`); token stats and `target: 'token'` faults wired like the other banks.
 */
export function createUkobAuthorizationServer(options: UkobAuthorizationServerOptions): UkobAuthorizationServer {
  const { profile, intents } = options;
  const issuer = options.origin;
  const fapi2 = profile === '2.0';
  const clientId = randomBytes(12).toString('base64url');
  const mtlsClientId = `${clientId}-mtls`;
  const mtlsAliases = {
    token_endpoint: `${options.mtlsOrigin}${ROUTES.token}`,
    pushed_authorization_request_endpoint: `${options.mtlsOrigin}${ROUTES.pushed_authorization_request}`,
    revocation_endpoint: `${options.mtlsOrigin}${ROUTES.revocation}`,
    userinfo_endpoint: `${options.mtlsOrigin}${ROUTES.userinfo}`,
  };
  // PKCE: oidc-provider's FAPI-aware default (always under 2.0, with PAR under 1.0), not the base's "always".
  const { pkce: _alwaysPkce, ...base } = baseConfiguration({ psus: [], accessTtlSeconds: options.accessTtlSeconds ?? UKOB_ACCESS_TTL_SECONDS });
  const clientMetadata: Omit<ClientMetadata, 'client_id'> = {
    application_type: 'native',
    jwks: { keys: options.tpp.jwks.keys.map((key) => ({ ...key })) },
    tls_client_certificate_bound_access_tokens: true,
    // Hybrid needs the implicit grant in the registration, as OpenID Connect defines it.
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials', ...(fapi2 ? [] : ['implicit'])],
    response_types: (fapi2 ? ['code'] : ['code id_token']) as ResponseType[],
    redirect_uris: sandboxRedirectUris('ukob'),
    scope: UKOB_SCOPES.join(' '),
    id_token_signed_response_alg: 'PS256',
    request_object_signing_alg: 'PS256',
  };

  const configuration: Configuration = {
    ...base,
    jwks: { keys: [options.idTokenSigningKey] },
    routes: ROUTES,
    scopes: [...UKOB_SCOPES],
    acrValues: [...UKOB_ACR_VALUES],
    claims: { openid: ['sub'], acr: null, [INTENT_CLAIM]: null },
    responseTypes: (fapi2 ? ['code'] : ['code id_token']) as ResponseType[],
    clientAuthMethods: ['private_key_jwt', 'tls_client_auth'],
    clientDefaults: { id_token_signed_response_alg: 'PS256', request_object_signing_alg: 'PS256' },
    enabledJWA: {
      clientAuthSigningAlgValues: ['PS256'],
      requestObjectSigningAlgValues: ['PS256'],
      idTokenSigningAlgValues: ['PS256'],
      userinfoSigningAlgValues: ['PS256'],
    },
    clients: [
      { ...clientMetadata, client_id: clientId, token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'PS256' },
      { ...clientMetadata, client_id: mtlsClientId, token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: subjectDn(options.tpp.transportCertPem) },
    ],
    discovery: { ...base.discovery, mtls_endpoint_aliases: mtlsAliases },
    async findAccount(ctx, sub, token) {
      const psu = findUkobPsu(sub);
      if (!psu) return undefined;
      return {
        accountId: psu.id,
        claims() {
          // The intent authorised in this grant: at the token endpoint the code's or refresh token's grant,
          // at the authorization endpoint (hybrid) the grant the interaction just created.
          const grantId = (token as { grantId?: string } | undefined)?.grantId ?? ctx.oidc.entities.Grant?.jti;
          const intent = grantId ? intents.byGrant(grantId) : undefined;
          return { sub: psu.id, ...(intent ? { [INTENT_CLAIM]: intent.id } : {}) };
        },
      };
    },
    // Each authorization is a new intent: never reuse an earlier grant of the session, only the one the
    // interaction just created for this intent.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    async extraTokenClaims(_ctx, token) {
      const grantId = (token as { grantId?: string }).grantId;
      const intent = grantId ? intents.byGrant(grantId) : undefined;
      return intent ? { [INTENT_CLAIM]: intent.id } : undefined;
    },
    // Refresh tokens for the long-lived consents (account access, funds confirmation, a VRP mandate), not for a
    // single-use payment order (domestic or international payment, scheduled payment, standing order; scope `payments` too: the intent of the code's grant tells them apart).
    async issueRefreshToken(_ctx, client, code) {
      if (!client.grantTypeAllowed('refresh_token') || code.kind !== 'AuthorizationCode') return false;
      const grantId = (code as { grantId?: string }).grantId;
      return code.scopes.has('accounts') || code.scopes.has('fundsconfirmations') || (grantId !== undefined && intents.byGrant(grantId)?.kind === 'domestic-vrp');
    },
    extraParams: {
      // Registered only to run on every authorization and PAR request (extraParams validators run whether the
      // parameter is sent or not, after redirect_uri is checked): the intent binding. The intent id itself must
      // travel in the claims parameter, not as a parameter of its own.
      [INTENT_CLAIM](ctx, value, client) {
        if (value !== undefined) throw new errors.InvalidRequest(`${INTENT_CLAIM} is not a parameter: request it as an essential claim in the claims parameter`);
        const requested = requestedIntentId(ctx.oidc.params?.claims);
        if ('reason' in requested) throw new errors.InvalidRequest(requested.reason);
        const check = intents.authorisable(requested.id, client!.clientId, scopesOf(ctx));
        if (!check.ok) throw new errors.InvalidRequest(check.reason);
      },
    },
    ttl: { ...(base.ttl as object), PushedAuthorizationRequest: 90 },
    features: {
      ...base.features,
      fapi: { enabled: true, profile: fapi2 ? '2.0' : '1.0 Final' },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: fapi2 },
      requestObjects: { enabled: true, requireSignedRequestObject: !fapi2 },
      claimsParameter: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      // OpenID Connect banks answer userinfo; OB clients also request the intent claim there.
      userinfo: { enabled: true },
      // Sender-constrained by certificate only: the resource server checks the RFC 8705 binding, not DPoP proofs.
      dPoP: { enabled: false },
      mTLS: {
        enabled: true,
        tlsClientAuth: true,
        certificateBoundAccessTokens: true,
        getCertificate: (ctx) => peerCertificate(ctx.req.socket),
        // The mTLS host asks for a certificate without rejecting the handshake, so that a wrong one is an OAuth
        // `invalid_client`; here it must have chained to the sandbox CA.
        certificateAuthorized: (ctx) => peerAuthorized(ctx.req.socket),
        certificateSubjectMatches(ctx, property, expected) {
          const cert = peerCertificate(ctx.req.socket);
          return property === 'tls_client_auth_subject_dn' && cert !== undefined && subjectDn(cert) === expected;
        },
      },
    },
  };
  const provider = new Provider(issuer, configuration);
  countTokenRequests(provider, 'ukob', options.stats);
  if (options.faults) consumeTokenFaults(provider, 'ukob', options.faults, ROUTES.token);
  return {
    provider,
    profile,
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    authorizationEndpoint: `${issuer}${ROUTES.authorization}`,
    tokenEndpoint: `${issuer}${ROUTES.token}`,
    mtlsTokenEndpoint: mtlsAliases.token_endpoint,
    parEndpoint: `${issuer}${ROUTES.pushed_authorization_request}`,
    mtlsParEndpoint: mtlsAliases.pushed_authorization_request_endpoint,
    mtlsRevocationEndpoint: mtlsAliases.revocation_endpoint,
    jwksUri: `${issuer}${ROUTES.jwks}`,
    clientId,
    mtlsClientId,
  };
}
