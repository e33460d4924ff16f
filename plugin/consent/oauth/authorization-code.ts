/**
 * The authorization-code steps every redirecting protocol shares (RFC 6749 §4.1): the request builder (PKCE S256
 * per RFC 7636, `state`, a nonce for OpenID Connect, the bank's renamed parameters) and the response processor
 * (RFC 9207 `iss`, the code exchange with the PKCE verifier over the bank's mTLS client, the id_token's nonce and
 * `acr`). The `oauth` protocol is these two steps; Berlin Group uses them for `scaOAuth` and the OAuth pre-step.
 */
import * as oauth from 'oauth4webapi';
import { BankgateError } from '../../errors/bankgate-error.js';
import { finishAuthorization, startAuthorization } from '../../oauth/authorization-request.js';
import type { TokenSet } from '../../store/connection.js';
import { toOAuthError } from '../../tokens/oauth-error.js';
import { toTokenSet } from '../../tokens/token-set.js';
import type { ConsentContext, OAuthStep } from '../protocol.js';

export interface AuthorizationRequest {
  /** Scopes as the bank wants them (`openid` is added for OpenID Connect banks). */
  readonly scopes: readonly string[];
  readonly state: string;
}

/**
 * The authorization URL to send the PSU to, and what the callback needs to redeem the code. Parameters follow the
 * bank's `consent.parameterNames` (e.g. `clientId` for `client_id`) and `consent.extraParams`.
 */
export async function buildAuthorizationRequest(context: ConsentContext, request: AuthorizationRequest): Promise<{ url: string; step: OAuthStep }> {
  const consent = context.bank.consent;
  // PAR, a signed request object, a FAPI profile, a DPoP key's thumbprint (banks.<bank>.authorizationRequest,
  // senderConstraint): plugin/oauth/authorization-request.ts builds those (standard parameter names only).
  if (!isPlainRequest(context)) {
    const started = await startAuthorization(context.oauth, { redirectUri: context.callbackUrl, scopes: request.scopes, openid: consent.openid, params: consent.extraParams, state: request.state });
    const { codeVerifier, nonce, redirectUri } = started.pending;
    return { url: started.authorizeUrl, step: { codeVerifier, redirectUri, ...(nonce ? { nonce } : {}) } };
  }
  const as = await metadataOf(context);
  if (!as.authorization_endpoint) {
    throw new BankgateError('bank_auth_error', { status: 502, bank: context.bank.name, detail: `bank ${context.bank.name}'s authorization server publishes no authorization_endpoint` });
  }
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const nonce = consent.openid ? oauth.generateRandomNonce() : undefined;
  const scope = consent.openid && !request.scopes.includes('openid') ? ['openid', ...request.scopes] : [...request.scopes];
  const names = consent.parameterNames;
  const url = new URL(as.authorization_endpoint);
  const set = (name: keyof typeof names, value: string) => url.searchParams.set(names[name] ?? name, value);
  set('client_id', context.oauth.client.client_id);
  set('redirect_uri', context.callbackUrl);
  set('response_type', 'code');
  set('scope', scope.join(' '));
  set('state', request.state);
  set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  set('code_challenge_method', 'S256');
  if (nonce) set('nonce', nonce);
  for (const [key, value] of Object.entries(consent.extraParams)) url.searchParams.set(key, value);
  return { url: url.href, step: { codeVerifier, redirectUri: context.callbackUrl, ...(nonce ? { nonce } : {}) } };
}

export interface RedeemedCode {
  readonly tokens: TokenSet;
  /** Scopes the bank granted (`openid` left out), when it said. */
  readonly scopes?: readonly string[];
  /** The id_token's `sub`, for OpenID Connect banks. */
  readonly subject?: string;
}

/**
 * The PSU's return at the callback: checks the authorization response (`state`, RFC 9207 `iss`; an `error` from the
 * bank becomes `consent_failed` with the OAuth error code), exchanges the code with the PKCE verifier, and checks the
 * id_token (nonce, and the `acr` asked for). Throws `BankgateError`.
 */
export async function redeemAuthorizationCode(context: ConsentContext, step: OAuthStep, callbackUrl: URL, state: string): Promise<RedeemedCode> {
  const { bank, oauth: bankSide } = context;
  try {
    const thumbprint = bankSide.certificateThumbprint();
    // `state`, `iss` (required under FAPI 2.0), the detached id_token (FAPI 1 Advanced), PKCE, nonce, DPoP binding.
    const { tokens: result, idToken: claims } = await finishAuthorization(bankSide, callbackUrl.searchParams, { state, ...step }, { requireIdToken: bank.consent.openid || step.nonce !== undefined });
    checkAcr(bank.name, bank.consent.extraParams.acr_values, claims?.acr);
    return {
      tokens: toTokenSet(result, context.now(), undefined, thumbprint),
      ...(result.scope ? { scopes: result.scope.split(' ').filter((s) => s !== 'openid') } : {}),
      ...(claims?.sub ? { subject: claims.sub } : {}),
    };
  } catch (error) {
    throw toOAuthError(bank.name, 'authorization code exchange', error);
  }
}

/** True when the bank takes the plain query request (RFC 6749 §4.1 with PKCE), where renamed parameters apply. */
function isPlainRequest(context: ConsentContext): boolean {
  const settings = context.bank.authorizationRequest;
  return !settings.par && !settings.requestObject && settings.responseType === 'code' && !context.oauth.requestOptions.DPoP;
}

/** The bank's authorization server metadata (static, or discovered once). */
export function metadataOf(context: ConsentContext): Promise<oauth.AuthorizationServer> {
  return context.oauth.metadata();
}

function checkAcr(bank: string, requested: string | undefined, acr: unknown) {
  if (requested === undefined) return;
  const allowed = requested.split(' ');
  if (typeof acr !== 'string' || !allowed.includes(acr)) {
    throw new BankgateError('consent_failed', { status: 502, bank, detail: `bank ${bank} issued an id_token with acr ${JSON.stringify(acr)}; asked for ${requested}` });
  }
}
