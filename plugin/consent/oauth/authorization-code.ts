/**
 * The authorization-code steps every redirecting protocol shares (RFC 6749 §4.1): the request builder (PKCE S256
 * per RFC 7636, `state`, a nonce for OpenID Connect, the bank's renamed parameters) and the response processor
 * (RFC 9207 `iss`, the code exchange with the PKCE verifier over the bank's mTLS client, the id_token's nonce and
 * `acr`). The `oauth` protocol is these two steps; Berlin Group uses them for `scaOAuth` and the OAuth pre-step.
 */
import * as oauth from 'oauth4webapi';
import { BankgateError } from '../../errors/bankgate-error.js';
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
  const as = await metadataOf(context);
  try {
    const params = oauth.validateAuthResponse(as, bankSide.client, callbackUrl.searchParams, state);
    const thumbprint = bankSide.certificateThumbprint();
    const response = await oauth.authorizationCodeGrantRequest(as, bankSide.client, bankSide.clientAuth, params, step.redirectUri, step.codeVerifier, bankSide.requestOptions);
    const result = await oauth.processAuthorizationCodeResponse(as, bankSide.client, response, {
      expectedNonce: step.nonce ?? oauth.expectNoNonce,
      requireIdToken: bank.consent.openid,
    });
    const claims = oauth.getValidatedIdTokenClaims(result);
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
