/**
 * The UK Open Banking Read/Write 4.0 consent protocol, intent first: the TPP's client-credentials token → the intent
 * (`POST /account-access-consents`, `AWAU`) → the PSU's authorization bound to it (the `openbanking_intent_id`
 * essential claim, sent the way the bank's `authorizationRequest` says: FAPI 2.0 PAR, or FAPI 1 Advanced signed
 * request object and hybrid response) → code → tokens, the id_token's intent checked → the intent read again
 * (`AUTH`). The consent's `GET` and `DELETE` use the client-credentials token. Account access (`accounts`) only:
 * funds confirmation needs the caller's debtor account, and payments go through their own consents.
 */
import * as oauth from 'oauth4webapi';
import { BankgateError } from '../../errors/bankgate-error.js';
import type { Connection } from '../../store/connection.js';
import { finishAuthorization, startAuthorization } from '../../oauth/authorization-request.js';
import { toOAuthError } from '../../tokens/oauth-error.js';
import type { RevocationOutcome } from '../../tokens/revoke.js';
import { toTokenSet } from '../../tokens/token-set.js';
import { callOperation } from './operations.js';
import type { ConsentProtocol, ConsentRecord, Step, UkobContext } from './protocol.js';

export const UK_OPEN_BANKING = 'uk-open-banking';

/** The 4.0 account-access intent as the bank answers it (the members read here). */
interface AccountAccessConsent {
  readonly Data?: { readonly ConsentId?: unknown; readonly Status?: unknown; readonly Permissions?: unknown; readonly ExpirationDateTime?: unknown };
}

/** The claims parameter that binds the authorization to the intent (OB security profile: essential, by value). */
export function intentClaims(intentId: string): string {
  const claim = { openbanking_intent_id: { value: intentId, essential: true } };
  return JSON.stringify({ id_token: claim, userinfo: claim });
}

function recordOf(body: unknown, checkedAt: number): ConsentRecord {
  const data = (body as AccountAccessConsent | undefined)?.Data;
  const id = typeof data?.ConsentId === 'string' ? data.ConsentId : undefined;
  const status = typeof data?.Status === 'string' ? data.Status : undefined;
  const permissions = Array.isArray(data?.Permissions) ? data.Permissions.filter((p): p is string => typeof p === 'string') : undefined;
  return {
    protocol: UK_OPEN_BANKING,
    ...(id ? { id } : {}),
    ...(status ? { status } : {}),
    checkedAt,
    data: { kind: 'account-access', ...(permissions ? { permissions } : {}), ...(typeof data?.ExpirationDateTime === 'string' ? { expirationDateTime: data.ExpirationDateTime } : {}) },
  };
}

/** `x-fapi-customer-ip-address` when the PSU is present (its IP known). */
function psuHeaders(ip: string | undefined): Record<string, string> {
  return ip ? { 'x-fapi-customer-ip-address': ip } : {};
}

export const ukOpenBanking: ConsentProtocol = {
  name: UK_OPEN_BANKING,

  async begin(context, request) {
    const { bank } = context;
    const settings = bank.consent.ukOpenBanking;
    const unsupported = request.scopes.filter((scope) => scope !== 'accounts');
    if (unsupported.length > 0 || request.scopes.length === 0) {
      throw new BankgateError('bad_request', {
        status: 400,
        bank: bank.name,
        detail: `bank ${bank.name} speaks UK Open Banking: a connection is an account-access consent (scopes: ["accounts"]); ${unsupported.join(', ') || 'no scope'} is not a connection (payments go through their payment consents)`,
      });
    }
    const token = await context.clientAccessToken(['accounts']);
    const expiration = settings.expiresInDays !== undefined ? new Date(context.now() + settings.expiresInDays * 86_400_000).toISOString() : undefined;
    const created = await callOperation(context, 'CreateAccountAccessConsents', {
      token,
      body: { Data: { Permissions: settings.permissions, ...(expiration ? { ExpirationDateTime: expiration } : {}) }, Risk: {} },
      headers: psuHeaders(request.psuIpAddress),
    });
    const consent = recordOf(created.json, context.now());
    if (!consent.id) throw new BankgateError('bank_response_invalid', { status: 502, bank: bank.name, detail: `bank ${bank.name} created an account-access consent without Data.ConsentId` });
    if (consent.status !== 'AWAU') {
      return { outcome: 'failed', consent, reason: { code: 'consent_rejected', detail: `bank ${bank.name} created the consent with status ${consent.status}, not AWAU (awaiting authorisation)` } };
    }
    const started = await startAuthorization(context.oauth, {
      redirectUri: context.callbackUrl,
      scopes: ['accounts'],
      openid: true,
      params: { ...bank.consent.extraParams, claims: intentClaims(consent.id) },
    });
    const { pending } = started;
    context.log.info('consent.intent_created', { bank: bank.name, intent: 'account-access', interactionId: created.interactionId });
    return {
      outcome: 'pending',
      nextAction: { type: 'redirect', url: started.authorizeUrl },
      state: pending.state,
      session: { intentId: consent.id, scope: 'accounts' },
      oauth: { codeVerifier: pending.codeVerifier, redirectUri: pending.redirectUri, ...(pending.nonce ? { nonce: pending.nonce } : {}) },
      consent,
    };
  },

  async continue(context, pending, input): Promise<Step> {
    const { bank } = context;
    const intentId = typeof pending.session.intentId === 'string' ? pending.session.intentId : undefined;
    if (!intentId) throw new BankgateError('consent_failed', { status: 400, bank: bank.name, detail: 'this consent was started without an intent: start again with POST /connections' });
    // The authorization response: the query (FAPI 2.0), or the fragment relayed into the query (FAPI 1 hybrid).
    const params = new URLSearchParams(input.url.search);
    let finished;
    try {
      const thumbprint = context.oauth.certificateThumbprint();
      finished = { ...(await finishAuthorization(context.oauth, params, { state: pending.state, ...pending.oauth }, { requireIdToken: true })), thumbprint };
    } catch (error) {
      const failure = toOAuthError(bank.name, 'authorization code exchange', error);
      const denied = error instanceof oauth.AuthorizationResponseError && error.error === 'access_denied';
      return { outcome: 'failed', reason: { code: denied ? 'consent_rejected' : failure.code, detail: failure.message } };
    }
    const bound = finished.idToken?.openbanking_intent_id;
    if (bound !== intentId) {
      return { outcome: 'failed', reason: { code: 'consent_failed', detail: `bank ${bank.name} issued an id_token for ${typeof bound === 'string' ? 'another intent' : 'no intent'} (openbanking_intent_id), not the consent the PSU was sent to authorise` } };
    }
    const read = await callOperation(context, 'GetAccountAccessConsentsConsentId', { token: await context.clientAccessToken(['accounts']), pathParams: { ConsentId: intentId } });
    const consent = recordOf(read.json, context.now());
    if (consent.status !== 'AUTH') {
      return { outcome: 'failed', consent, reason: { code: 'consent_failed', detail: `the consent is ${consent.status ?? 'in no known status'} at bank ${bank.name} after the PSU's authorisation, not AUTH` } };
    }
    const scopes = finished.tokens.scope ? finished.tokens.scope.split(' ').filter((scope) => scope !== 'openid') : ['accounts'];
    return {
      outcome: 'authorised',
      consent,
      tokens: toTokenSet(finished.tokens, context.now(), undefined, finished.thumbprint),
      scopes,
      ...(typeof finished.idToken?.sub === 'string' ? { subject: finished.idToken.sub } : {}),
    };
  },

  async status(context, connection: Connection) {
    const intentId = connection.consent?.id;
    if (!intentId) return undefined;
    const read = await callOperation(context, 'GetAccountAccessConsentsConsentId', { token: await context.clientAccessToken(['accounts']), pathParams: { ConsentId: intentId } });
    return recordOf(read.json, context.now());
  },

  async revoke(context, connection): Promise<RevocationOutcome> {
    const intentId = connection.consent?.id;
    if (!intentId) return 'nothing_to_revoke';
    try {
      // The bank revokes the consent's tokens with it (OB: a deleted consent ends its access and refresh tokens).
      await callOperation(context, 'DeleteAccountAccessConsentsConsentId', { token: await context.clientAccessToken(['accounts']), pathParams: { ConsentId: intentId } });
      return 'revoked';
    } catch (error) {
      context.log.warn('connection.revoke_failed', { bank: context.bank.name, connectionId: connection.id, detail: error instanceof BankgateError ? error.message : 'unexpected error' });
      return 'failed';
    }
  },
};
