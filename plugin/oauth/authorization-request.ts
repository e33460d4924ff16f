/**
 * The authorization-code request and its response, the way each bank's `authorizationRequest` says (RFC 6749 §4.1
 * with PKCE S256 and `state` always, a nonce for OpenID Connect): plain query parameters, pushed (RFC 9126), in a
 * signed request object (RFC 9101) by value or pushed, the FAPI 2.0 Security Profile (PAR, `code`, `iss` required)
 * or FAPI 1.0 Advanced (`code id_token`, the id_token a detached signature: `c_hash`, `s_hash`, nonce). oauth4webapi
 * writes and checks every piece; this module only chooses them. Every consent protocol starts and finishes its PSU
 * authorization here.
 */
import * as oauth from 'oauth4webapi';
import { BankgateError } from '../errors/bankgate-error.js';
import type { BankOAuth } from '../tokens/authorization-server.js';

export interface AuthorizationRequestInput {
  /** Where the bank sends the PSU back: `<publicUrl>/callback/<bank>`, registered at the bank. */
  readonly redirectUri: string;
  /** Scopes asked for; `openid` is added for OpenID Connect. */
  readonly scopes: readonly string[];
  /** OpenID Connect: `openid`, a nonce and an id_token (always under FAPI 1.0 Advanced). */
  readonly openid: boolean;
  /** Further parameters (`acr_values`, `claims`, …). The ones this module sets (state, PKCE, …) cannot be overridden. */
  readonly params?: Readonly<Record<string, string>>;
  /** The `state` to send, when the caller's engine chose it (the consent engine finds the session by it); default: a new one. */
  readonly state?: string;
}

/** What must be kept until the PSU comes back: the response is checked against it. Secret: store it sealed. */
export interface PendingAuthorization {
  readonly state: string;
  readonly codeVerifier: string;
  readonly nonce?: string;
  readonly redirectUri: string;
}

export interface StartedAuthorization {
  /** Where to send the PSU. */
  readonly authorizeUrl: string;
  readonly pending: PendingAuthorization;
}

/** The parameters this module owns: a caller's `params` cannot set them. */
const OWNED = new Set(['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'request', 'request_uri', 'dpop_jkt']);

/**
 * Builds the authorization request and, for PAR, pushes it (with client authentication and, for a DPoP bank, a
 * proof binding the code to the key). Throws `BankgateError` (`bank_auth_error` when the bank refuses the push,
 * `config_invalid` when it publishes no PAR endpoint).
 * @example const { authorizeUrl, pending } = await startAuthorization(bankSide, { redirectUri, scopes: ['accounts'], openid: true, params: { claims } });
 */
export async function startAuthorization(bankSide: BankOAuth, input: AuthorizationRequestInput): Promise<StartedAuthorization> {
  const { bank, client } = bankSide;
  const settings = bank.authorizationRequest;
  const as = await bankSide.metadata();
  const openid = input.openid || settings.responseType === 'code id_token';
  const state = input.state ?? oauth.generateRandomState();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const nonce = openid ? oauth.generateRandomNonce() : undefined;
  const scope = openid && !input.scopes.includes('openid') ? ['openid', ...input.scopes] : [...input.scopes];

  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(input.params ?? {})) if (!OWNED.has(name)) params.set(name, value);
  params.set('client_id', client.client_id);
  params.set('redirect_uri', input.redirectUri);
  params.set('response_type', settings.responseType);
  params.set('scope', scope.join(' '));
  params.set('state', state);
  params.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  params.set('code_challenge_method', 'S256');
  if (nonce) params.set('nonce', nonce);
  if (bankSide.requestOptions.DPoP) params.set('dpop_jkt', await bankSide.requestOptions.DPoP.calculateThumbprint());

  let sent = params;
  if (settings.requestObject) {
    const key = settings.signingKey!;
    sent = new URLSearchParams({ request: await oauth.issueRequestObject(as, client, params, { key: key.privateKey, kid: key.keyId }) });
  }

  const url = new URL(as.authorization_endpoint!);
  if (settings.par) {
    if (!as.pushed_authorization_request_endpoint) {
      throw new BankgateError('config_invalid', { status: 500, bank: bank.name, detail: `bank ${bank.name} publishes no pushed_authorization_request_endpoint, but banks.${bank.name}.authorizationRequest pushes requests (PAR)` });
    }
    const pushed = await withDpopNonceRetry(bankSide, async () => {
      const response = await oauth.pushedAuthorizationRequest(as, client, bankSide.clientAuth, sent, bankSide.requestOptions);
      return oauth.processPushedAuthorizationResponse(as, client, response);
    });
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('request_uri', pushed.request_uri);
  } else if (settings.requestObject) {
    // By value: OpenID Connect wants client_id, response_type and scope outside the object too.
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('response_type', settings.responseType);
    url.searchParams.set('scope', scope.join(' '));
    url.searchParams.set('request', sent.get('request')!);
  } else {
    for (const [name, value] of params) url.searchParams.set(name, value);
  }
  return { authorizeUrl: url.href, pending: { state, codeVerifier, ...(nonce ? { nonce } : {}), redirectUri: input.redirectUri } };
}

export interface FinishedAuthorization {
  readonly tokens: oauth.TokenEndpointResponse;
  /** The token endpoint's id_token claims, checked (signature, issuer, audience, nonce). */
  readonly idToken?: oauth.IDToken;
}

/**
 * Checks the PSU's return (`state`; `iss` when the bank sends it, always under FAPI 2.0; under FAPI 1.0 Advanced the
 * id_token as a detached signature of `code` and `state`) and exchanges the code with the PKCE verifier (and a DPoP
 * proof). Throws what oauth4webapi throws (`AuthorizationResponseError` when the bank sent an error, …): map it with
 * `toOAuthError`; a bank that does not answer a call in time is the transport's `bank_timeout` (its `totalMs`), an
 * aborted `signal` rethrows the abort. The `params` are the response's, from the query or, for a fragment response, relayed by the page.
 */
export async function finishAuthorization(bankSide: BankOAuth, params: URLSearchParams, pending: PendingAuthorization, options: { requireIdToken?: boolean; signal?: AbortSignal } = {}): Promise<FinishedAuthorization> {
  const { bank, client } = bankSide;
  const settings = bank.authorizationRequest;
  const as = await bankSide.metadata();
  // Every call to the bank here (the JWKS that checks a FAPI 1 id_token, the token request and its DPoP retry) goes
  // through the bank transport's fetch, whose attempt deadline (banks.<bank>.transport.timeouts.totalMs) covers
  // headers and body: a bank that never answers, or trickles, ends in bank_timeout naming it. The caller's signal
  // composes with it.
  const requestOptions = options.signal ? { ...bankSide.requestOptions, signal: options.signal } : bankSide.requestOptions;
  let code: URLSearchParams;
  if (settings.responseType === 'code id_token') {
    if (!pending.nonce) throw new BankgateError('consent_failed', { status: 400, bank: bank.name, detail: 'this consent was started without a nonce: start again with POST /connections' });
    code = await oauth.validateDetachedSignatureResponse(as, client, params, pending.nonce, pending.state, undefined, requestOptions);
  } else {
    code = oauth.validateAuthResponse(settings.requireIss ? { ...as, authorization_response_iss_parameter_supported: true } : as, client, params, pending.state);
  }
  const tokens = await withDpopNonceRetry(bankSide, async () => {
    const response = await oauth.authorizationCodeGrantRequest(as, client, bankSide.clientAuth, code, pending.redirectUri, pending.codeVerifier, requestOptions);
    return oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: pending.nonce ?? oauth.expectNoNonce,
      requireIdToken: options.requireIdToken ?? pending.nonce !== undefined,
    });
  });
  checkSenderConstraint(bankSide, tokens);
  const idToken = oauth.getValidatedIdTokenClaims(tokens);
  return { tokens, ...(idToken ? { idToken } : {}) };
}

/**
 * A DPoP bank's tokens must come back DPoP-bound (`token_type: DPoP`): a bearer token would be usable by anyone
 * holding it, which is what the configuration asked to prevent.
 */
export function checkSenderConstraint(bankSide: BankOAuth, tokens: oauth.TokenEndpointResponse): void {
  if (bankSide.bank.senderConstraint.method === 'dpop' && tokens.token_type !== 'dpop') {
    throw new BankgateError('bank_auth_error', { status: 502, bank: bankSide.bank.name, detail: `bank ${bankSide.bank.name} issued a ${tokens.token_type} token; a DPoP-bound one was asked for (banks.${bankSide.bank.name}.senderConstraint)` });
  }
}

/** RFC 9449 §8: a server that wants a DPoP nonce refuses once with `use_dpop_nonce`; the handle has kept it: send again. */
export async function withDpopNonceRetry<T>(bankSide: BankOAuth, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!bankSide.requestOptions.DPoP || !oauth.isDPoPNonceError(error)) throw error;
    return attempt();
  }
}
