/**
 * The `oauth` consent protocol: the plain OAuth 2.0 authorization-code redirect (RFC 6749 §4.1, PKCE, RFC 9207 `iss`,
 * OpenID Connect when `consent.openid`), as the SEB-like and SG-like banks authorise. The consent *is* the token's
 * scopes: there is no consent resource at the bank, so `status` answers from the connection and `revoke` revokes the
 * refresh token (RFC 7009) where the bank can.
 *
 *   begin     → redirect to the authorization endpoint (scopes: the request's, else `consent.scopes`)
 *   continue  (callback) → code exchange → authorised with the token set, the granted scopes, the id_token's `sub`
 */
import { BankgateError } from '../../errors/bankgate-error.js';
import type { ConsentContext, ConsentProtocol, ConsentRecord, Step } from '../protocol.js';
import { buildAuthorizationRequest, redeemAuthorizationCode } from './authorization-code.js';
import { revokeTokens } from './revoke-tokens.js';

export const oauthProtocol: ConsentProtocol = {
  name: 'oauth',
  // A plain OAuth consent is its scopes: no resource at the bank carries access lists, validity or frequency.
  terms: ['scopes'],

  async begin(context, { request, state }) {
    const scopes = checkedScopes(context, request.scopes);
    const { url, step } = await buildAuthorizationRequest(context, { scopes, state });
    return { outcome: 'pending', nextAction: { type: 'redirect', url }, session: { scopes }, oauth: step };
  },

  async continue(context, pending, input): Promise<Step> {
    if (input.kind !== 'callback') {
      throw new BankgateError('bad_request', { status: 409, bank: context.bank.name, detail: `this consent waits for the PSU at the bank (a redirect); there is nothing to ${input.kind === 'poll' ? 'poll' : 'answer'}` });
    }
    if (!pending.oauth) throw new BankgateError('consent_failed', { status: 400, bank: context.bank.name, detail: 'this consent has no authorization request in progress: start again with POST /connections' });
    const redeemed = await redeemAuthorizationCode(context, pending.oauth, input.url, pending.state);
    const asked = Array.isArray(pending.session.scopes) ? (pending.session.scopes as string[]) : [];
    return { outcome: 'authorised', tokens: redeemed.tokens, scopes: redeemed.scopes ?? asked, consent: record(context), ...(redeemed.subject ? { subject: redeemed.subject } : {}) };
  },

  async status(_context, connection) {
    if (connection.status === 'reconsent_required') return { state: 'ended', ...(connection.reason ? { reason: connection.reason } : {}) };
    return { state: connection.status === 'active' ? 'active' : 'unknown' };
  },

  async revoke(context, connection) {
    return revokeTokens(context, connection);
  },

  callCredentials() {
    return { headers: {}, token: 'required' };
  },

  countsAsUnattendedRead(route) {
    return route.method === 'GET';
  },
};

function record(context: ConsentContext): ConsentRecord {
  const frequencyPerDay = context.bank.consent.frequencyPerDay;
  return { protocol: 'oauth', approach: 'redirect', ...(frequencyPerDay !== undefined ? { frequencyPerDay } : {}) };
}

/** The scopes to ask for: the request's (each one the bank knows), else the bank's default. */
function checkedScopes(context: ConsentContext, requested: readonly string[] | undefined): readonly string[] {
  const bank = context.bank;
  const scopes = requested ?? bank.consent.scopes;
  const known = new Set([...bank.consent.scopes, ...[...bank.apis.values()].flatMap((api) => api.manifest.routes.flatMap((r) => r.scopes))]);
  const unknown = scopes.filter((scope) => !known.has(scope));
  if (unknown.length > 0) {
    throw new BankgateError('bad_request', { status: 400, bank: bank.name, detail: `bank ${bank.name} has no scope ${unknown.join(', ')}; its scopes are ${[...known].sort().join(', ')}` });
  }
  return scopes;
}
