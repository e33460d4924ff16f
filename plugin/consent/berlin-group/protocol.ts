/**
 * The `berlin-group` consent protocol (NextGenPSD2 1.3.9): the consent is a resource at the bank, created first
 * (`POST /v1/consents`) and then authorised by the PSU through the SCA approach the bank chooses (sca.ts). Account reads
 * carry its id as `Consent-ID`, and the OAuth token where OAuth bound one to it.
 *
 *   begin     POST /v1/consents (access, recurringIndicator, validUntil, frequencyPerDay; PSU-IP-Address, PSU-ID,
 *             TPP-Redirect-URI with the state, the approach preference) → the SCA's first step;
 *             401 TOKEN_INVALID with `scaOAuth`: the bank wants the OAuth pre-step first (authorize with
 *             `consent.preStepScope`), after which the consent is created again with the token
 *   continue  the SCA's steps (sca.ts); once finalised, GET /v1/consents/{id}: valid → authorised with what the bank
 *             granted (validUntil, frequencyPerDay)
 *   status    GET /v1/consents/{id}: expired, revokedByPsu, terminatedByTpp, rejected → ended, with the reason
 *   revoke    DELETE /v1/consents/{id} (and the pre-step's tokens at the revocation endpoint)
 */
import type { BerlinGroupConsentConfig } from '../config-schema.js';
import { BankgateError } from '../../errors/bankgate-error.js';
import type { Connection } from '../../store/connection.js';
import { buildAuthorizationRequest, redeemAuthorizationCode, type RedeemedCode } from '../oauth/authorization-code.js';
import { revokeTokens } from '../oauth/revoke-tokens.js';
import type { ConsentAccess, ConsentContext, ConsentProtocol, ConsentRecord, ConsentRequest, ConsentStatus, SessionData, Step, StatusReason } from '../protocol.js';
import { bodyOf, expectStatus, linksOf, readConsentInformation, readScaAnswer, requiredString, tppCodes, type ConsentInformation } from './messages.js';
import { continueSca, followAnswer, scaRequestHeaders, type Approach, type ScaOutcome, type ScaSession, type ScaSettings } from './sca.js';

/** The session of a Berlin Group consent in progress (JSON, stored sealed on the pending connection). */
interface BgConsentSession {
  readonly api: string;
  /** The SCA of the consent, once it exists. */
  readonly sca?: ScaSession;
  /** The OAuth pre-step is running: the consent is created after it, with this body. */
  readonly preStep?: { readonly body: Record<string, unknown>; readonly psu: ConsentRequest['psu']; readonly preferred?: ConsentRequest['preferredApproach'] };
  /** The pre-step's tokens, while the consent created with them still needs its own SCA. */
  readonly preStepTokens?: RedeemedCode;
}

/** Ended consent statuses and the reason each gives a connection that needs the PSU again. */
const ENDED: Readonly<Record<string, StatusReason>> = {
  expired: { code: 'consent_expired', detail: 'the consent expired at the bank (its validUntil passed, or a newer consent of the PSU superseded it)' },
  revokedByPsu: { code: 'consent_revoked_by_psu', detail: 'the PSU revoked the consent at the bank' },
  terminatedByTpp: { code: 'consent_terminated', detail: 'the consent was terminated (deleted) at the bank' },
  rejected: { code: 'consent_rejected', detail: 'the bank rejected the consent' },
};

function configOf(context: ConsentContext): BerlinGroupConsentConfig {
  const consent = context.bank.consent;
  if (consent.protocol !== 'berlin-group') throw new Error(`banks.${context.bank.name}.consent.protocol is ${consent.protocol}, not berlin-group`);
  return consent;
}

function settingsOf(config: BerlinGroupConsentConfig): ScaSettings {
  return { statusNames: config.statusNames, pollIntervalMs: config.pollIntervalMs, scaMethods: {} };
}

/** The API that serves `createConsent`: configured, else the bank's API that declares it. */
function consentApi(context: ConsentContext, config: BerlinGroupConsentConfig): string {
  if (config.api) return config.api;
  const found = [...context.bank.apis.values()].find((api) => api.manifest.routes.some((r) => r.operationId === 'createConsent'));
  if (!found) throw new BankgateError('config_invalid', { status: 500, bank: context.bank.name, detail: `banks.${context.bank.name}: no API declares createConsent; set consent.api` });
  return found.name;
}

/** The Berlin Group `access` object for what the caller asked. */
export function accessOf(access: ConsentAccess): Record<string, unknown> {
  if (access === 'all') return { allPsd2: 'allAccounts' };
  const services = access.services ?? ['accounts', 'balances', 'transactions'];
  const refs = (access.accounts ?? []).map((iban) => ({ iban }));
  // Balances and transactions of an account imply its details: the account list always names them.
  return { accounts: refs, ...(services.includes('balances') ? { balances: refs } : {}), ...(services.includes('transactions') ? { transactions: refs } : {}) };
}

function consentBody(request: ConsentRequest): Record<string, unknown> {
  return {
    access: accessOf(request.access),
    recurringIndicator: request.recurring,
    // 9999-12-31 asks for the longest validity the bank grants (Berlin Group IG); the bank says what it granted.
    validUntil: request.validUntil ?? '9999-12-31',
    frequencyPerDay: request.frequencyPerDay ?? (request.recurring ? 4 : 1),
    combinedServiceIndicator: false,
  };
}

function sessionOf(data: SessionData): BgConsentSession {
  if (typeof data.api !== 'string') throw new BankgateError('consent_failed', { status: 409, detail: 'the stored consent session is not a Berlin Group one: start again with POST /connections' });
  return data as unknown as BgConsentSession;
}

export const berlinGroupProtocol: ConsentProtocol = {
  name: 'berlin-group',
  terms: ['access', 'validUntil', 'oneOff', 'frequencyPerDay'],

  async begin(context, { request, state }) {
    const config = configOf(context);
    if (!request.psu.ipAddress) {
      throw new BankgateError('bad_request', { status: 400, bank: context.bank.name, detail: `bank ${context.bank.name} (Berlin Group) needs the PSU's IP address to create a consent: send psu.ipAddress` });
    }
    const api = consentApi(context, config);
    return createConsent(context, config, { api }, { body: consentBody(request), psu: request.psu, preferred: request.preferredApproach }, state, undefined);
  },

  async continue(context, pending, input) {
    const config = configOf(context);
    const session = sessionOf(pending.session);
    if (session.preStep) {
      if (input.kind !== 'callback' || !pending.oauth) throw new BankgateError('bad_request', { status: 409, bank: context.bank.name, detail: 'this consent waits for the PSU to sign in at the bank (OAuth pre-step)' });
      const tokens = await redeemAuthorizationCode(context, pending.oauth, input.url, pending.state);
      return createConsent(context, config, { api: session.api }, session.preStep, pending.state, tokens);
    }
    if (!session.sca) throw new BankgateError('consent_failed', { status: 409, bank: context.bank.name, detail: 'no SCA is in progress: start again with POST /connections' });
    const outcome = await continueSca(context, settingsOf(config), session.sca, input, pending.state, pending.oauth);
    return settle(context, config, session, outcome);
  },

  async status(context, connection) {
    const config = configOf(context);
    const id = connection.consent?.id;
    if (!id) return { state: 'unknown' };
    const read = await context.call({ method: 'GET', api: consentApiOf(connection, context, config), path: `/v1/consents/${encodeURIComponent(id)}` });
    if (read.status === 403 && tppCodes(read).includes('CONSENT_UNKNOWN')) {
      return { state: 'ended', reason: { code: 'consent_unknown', detail: 'the bank no longer knows the consent' } };
    }
    expectStatus(context.bank.name, read, [200]);
    const information = readConsentInformation(context.bank.name, read, config.statusNames);
    const consent = recordOf(connection.consent!, information, context.now());
    const ended = ENDED[information.consentStatus];
    if (ended) return { state: 'ended', consent, reason: ended };
    return { state: information.consentStatus === 'valid' ? 'active' : 'unknown', consent };
  },

  async revoke(context, connection) {
    const config = configOf(context);
    const id = connection.consent?.id;
    let outcome: Awaited<ReturnType<ConsentProtocol['revoke']>> = 'nothing_to_revoke';
    if (id) {
      const deleted = await context.call({ method: 'DELETE', api: consentApiOf(connection, context, config), path: `/v1/consents/${encodeURIComponent(id)}` }).catch((error: unknown) => {
        context.log.warn('connection.revoke_failed', { bank: context.bank.name, connectionId: connection.id, detail: error instanceof Error ? error.message : String(error) });
        return undefined;
      });
      if (deleted?.status === 204 || deleted?.status === 200) outcome = 'revoked';
      else if (deleted && (deleted.status === 409 || tppCodes(deleted).includes('CONSENT_UNKNOWN'))) outcome = 'nothing_to_revoke';
      else {
        if (deleted) context.log.warn('connection.revoke_failed', { bank: context.bank.name, connectionId: connection.id, status: deleted.status, codes: tppCodes(deleted) });
        outcome = 'failed';
      }
    }
    // The pre-step login's grant is the PSU's, not the consent's: it outlives the consent unless revoked.
    if (connection.tokens && connection.consent?.approach === 'oauth-pre-step') await revokeTokens(context, connection);
    return outcome;
  },

  callCredentials(connection, route) {
    // The consent (and the token OAuth bound to it) is for the operations that require a Consent-ID: not for payments.
    if (route && !route.headers.some((h) => h.required && h.name.toLowerCase() === 'consent-id')) return { headers: {}, token: 'none' };
    const id = connection.consent?.id;
    const headers: Record<string, string> = id ? { 'consent-id': id } : {};
    return { headers, token: connection.consent?.data?.tokenRequired === true ? 'required' : 'optional' };
  },

  countsAsUnattendedRead(route) {
    return route.method === 'GET' && route.headers.some((h) => h.required && h.name.toLowerCase() === 'consent-id');
  },
};

function consentApiOf(connection: Connection, context: ConsentContext, config: BerlinGroupConsentConfig): string {
  const stored = connection.consent?.data?.api;
  return typeof stored === 'string' ? stored : consentApi(context, config);
}

/**
 * `POST /v1/consents`, with the pre-step's token when there is one, and what follows from the answer: the pre-step
 * when the bank asks for it, the SCA's first step, or (after a pre-step) a consent valid at once.
 */
async function createConsent(
  context: ConsentContext,
  config: BerlinGroupConsentConfig,
  base: { readonly api: string },
  preStep: NonNullable<BgConsentSession['preStep']>,
  state: string,
  tokens: RedeemedCode | undefined,
): Promise<Step> {
  const bank = context.bank.name;
  const headers = scaRequestHeaders(context, { psu: preStep.psu, preferred: preStep.preferred }, state);
  if (config.explicitAuthorisation) headers['tpp-explicit-authorisation-preferred'] = 'true';
  const created = await context.call({ method: 'POST', api: base.api, path: '/v1/consents', headers, body: preStep.body, ...(tokens ? { authorization: { bearer: tokens.tokens.accessToken } } : {}) });

  if (created.status === 401 && !tokens && tppCodes(created).includes('TOKEN_INVALID') && linksOf(bodyOf(bank, created)).scaOAuth) {
    // The bank wants the PSU signed in first (OAuth pre-step): authorize with the generic AIS scope, then create again.
    const { url, step } = await buildAuthorizationRequest(context, { scopes: [config.preStepScope], state });
    const session: BgConsentSession = { api: base.api, preStep };
    return { outcome: 'pending', nextAction: { type: 'redirect', url }, session: session as unknown as SessionData, oauth: step };
  }
  expectStatus(bank, created, [201, 200]);
  const body = bodyOf(bank, created);
  const consentId = requiredString(bank, created, body, 'consentId');
  const sca: ScaSession = {
    subject: 'consent',
    id: consentId,
    self: linksOf(body).self ?? `/v1/consents/${encodeURIComponent(consentId)}`,
    oauthScope: config.scopeTemplate.replace('{consentId}', consentId),
    psu: preStep.psu,
    ...(preStep.preferred ? { preferred: preStep.preferred } : {}),
    ...(tokens ? { approach: 'oauth-pre-step' as const } : {}),
  };
  const session: BgConsentSession = { api: base.api, sca, ...(tokens ? { preStepTokens: tokens } : {}) };
  const answer = readScaAnswer(bank, created, config.statusNames);
  // A consent valid at creation (after the pre-step: the PSU's sign-in was its SCA) needs nothing more.
  const status = typeof body.consentStatus === 'string' ? (config.statusNames[body.consentStatus] ?? body.consentStatus) : undefined;
  const outcome: ScaOutcome = status === 'valid' ? { kind: 'finalised', session: sca } : await followAnswer(context, settingsOf(config), sca, answer, state, false);
  return settle(context, config, session, outcome);
}

/** An SCA outcome as a protocol step: finalised → read what the bank granted. */
async function settle(context: ConsentContext, config: BerlinGroupConsentConfig, session: BgConsentSession, outcome: ScaOutcome): Promise<Step> {
  const next: BgConsentSession = { ...session, sca: outcome.session };
  const pendingRecord = (): ConsentRecord => ({ protocol: 'berlin-group', id: outcome.session.id, status: 'received', ...(outcome.session.approach ? { approach: outcome.session.approach } : {}), data: { api: session.api } });
  if (outcome.kind === 'pending') {
    return { outcome: 'pending', nextAction: outcome.nextAction, session: next as unknown as SessionData, ...(outcome.oauth ? { oauth: outcome.oauth } : {}), consent: pendingRecord() };
  }
  if (outcome.kind === 'failed') return { outcome: 'failed', reason: outcome.reason, consent: { ...pendingRecord(), status: 'rejected' } };

  const read = await context.call({ method: 'GET', path: outcome.session.self, ...(outcome.tokens ?? session.preStepTokens ? { authorization: { bearer: (outcome.tokens ?? session.preStepTokens)!.tokens.accessToken } } : {}) });
  expectStatus(context.bank.name, read, [200]);
  const information = readConsentInformation(context.bank.name, read, config.statusNames);
  const tokens = outcome.tokens ?? session.preStepTokens;
  const approach: Approach = outcome.session.approach ?? 'redirect';
  const consent = recordOf({ protocol: 'berlin-group', id: outcome.session.id, approach, data: { api: session.api, tokenRequired: tokens !== undefined } }, information, context.now());
  if (information.consentStatus !== 'valid') {
    const reason = ENDED[information.consentStatus] ?? { code: 'consent_not_valid', detail: `the SCA finished but the bank says the consent is ${information.consentStatus}` };
    return { outcome: 'failed', reason, consent };
  }
  return { outcome: 'authorised', consent, ...(tokens ? { tokens: tokens.tokens, ...(tokens.subject ? { subject: tokens.subject } : {}) } : {}), ...(outcome.session.psu.id ? { subject: outcome.session.psu.id } : {}) };
}

function recordOf(base: ConsentRecord, information: ConsentInformation, now: number): ConsentRecord {
  return {
    ...base,
    status: information.consentStatus,
    checkedAt: now,
    ...(information.validUntil ? { validUntil: information.validUntil } : {}),
    ...(information.frequencyPerDay !== undefined ? { frequencyPerDay: information.frequencyPerDay } : {}),
    ...(information.recurringIndicator !== undefined ? { recurring: information.recurringIndicator } : {}),
  };
}

export type { ConsentStatus };
