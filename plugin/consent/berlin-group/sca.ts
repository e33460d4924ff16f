/**
 * Berlin Group SCA, the same for a consent and a payment (NextGenPSD2 1.3.9 and its Implementation Guidelines):
 * the next step follows from the `_links` of the bank's last answer, in this order:
 *
 *   scaRedirect                         redirect the PSU; on its return PUT the `confirmation` code when linked
 *   scaOAuth                            OAuth SCA: authorize with the subject's scope (`AIS:<consentId>`,
 *                                       `PIS:<paymentId>`) and PKCE; code → token
 *   startAuthorisation                  explicit start: POST it (with what the gateway knows), follow its answer
 *   startAuthorisationWithPsuIdentification     decoupled without PSU-ID: ask the PSU's id (or send the known one)
 *   startAuthorisationWithPsuAuthentication     embedded without PSU-ID: the PSU's id, then its password
 *   startAuthorisationWithAuthenticationMethodSelection   the TPP picks the SCA method (`payments.scaMethods`)
 *   updatePsuIdentification / updatePsuAuthentication / selectAuthenticationMethod / authoriseTransaction
 *                                       embedded steps, answered with the PSU's data by PUT
 *   scaStatus 'started' (+ psuMessage)  decoupled: poll the SCA status no faster than the bank allows
 *
 * Request builders and response processors are separate (messages.ts reads answers). Everything the next step needs
 * is kept in an `ScaSession` (JSON, stored sealed with the pending connection or payment).
 */
import { BankgateError } from '../../errors/bankgate-error.js';
import { bankErrorToProblem } from '../../surface/bank-error.js';
import { buildAuthorizationRequest, redeemAuthorizationCode, type RedeemedCode } from '../oauth/authorization-code.js';
import type { ConsentContext, ContinueInput, EmbeddedStep, NextAction, OAuthStep, OperationResponse, PsuContext, ScaApproach, StatusReason } from '../protocol.js';
import { readScaAnswer, tppCodes, type ScaAnswer } from './messages.js';

/** How the PSU authorised (or is authorising). */
export type Approach = 'redirect' | 'oauth' | 'oauth-pre-step' | 'decoupled' | 'embedded';

export interface ScaSettings {
  /** The bank's status words → the standard's. */
  readonly statusNames: Readonly<Record<string, string>>;
  /** The least gap between two status reads of a running decoupled SCA, ms. */
  readonly pollIntervalMs: number;
  /** The SCA method to start per preferred approach, where the TPP chooses it. */
  readonly scaMethods: { readonly redirect?: string; readonly decoupled?: string; readonly embedded?: string };
}

/** What the next SCA step needs, kept between requests. JSON only. */
export interface ScaSession {
  readonly subject: 'consent' | 'payment';
  /** The bank's id of the consent or payment. */
  readonly id: string;
  /** The consent's or payment's resource link (`self`). */
  readonly self: string;
  /** The OAuth scope of this subject's OAuth SCA. */
  readonly oauthScope: string;
  readonly psu: PsuContext;
  readonly preferred?: ScaApproach;
  readonly approach?: Approach;
  readonly scaStatusLink?: string;
  readonly confirmationLink?: string;
  /** The authorisation resource embedded steps are PUT to. */
  readonly updateLink?: string;
  /** A start link still waiting for the PSU's id (and password, for embedded). */
  readonly startLink?: string;
  readonly startNeeds?: 'identification' | 'authentication';
  readonly embeddedStep?: EmbeddedStep;
  /** What the last answer showed the PSU (to answer the same `nextAction` again). */
  readonly shown?: { readonly psuMessage?: string; readonly methods?: readonly unknown[]; readonly challenge?: unknown };
}

export type ScaOutcome =
  | { readonly kind: 'pending'; readonly nextAction: NextAction; readonly session: ScaSession; readonly oauth?: OAuthStep }
  /** The SCA is done (finalised or exempted); `tokens` when it was an OAuth SCA. */
  | { readonly kind: 'finalised'; readonly session: ScaSession; readonly tokens?: RedeemedCode }
  | { readonly kind: 'failed'; readonly reason: StatusReason; readonly session: ScaSession };

/** The `TPP-*` and `PSU-*` headers of a request that may start an SCA: the gateway's callback carries `state`. */
export function scaRequestHeaders(context: ConsentContext, session: Pick<ScaSession, 'psu' | 'preferred'>, state: string): Record<string, string> {
  const back = new URL(context.callbackUrl);
  back.searchParams.set('state', state);
  const nok = new URL(back);
  nok.searchParams.set('outcome', 'nok');
  const headers: Record<string, string> = { 'tpp-redirect-uri': back.href, 'tpp-nok-redirect-uri': nok.href, ...psuHeaders(session.psu) };
  if (session.preferred === 'redirect') headers['tpp-redirect-preferred'] = 'true';
  if (session.preferred === 'decoupled') headers['tpp-decoupled-preferred'] = 'true';
  if (session.preferred === 'embedded') headers['tpp-redirect-preferred'] = 'false';
  return headers;
}

/** `PSU-IP-Address`, `PSU-User-Agent`, `PSU-ID`, `PSU-Corporate-ID` from what the caller said about the PSU. */
export function psuHeaders(psu: PsuContext, withId = true): Record<string, string> {
  return {
    ...(psu.ipAddress ? { 'psu-ip-address': psu.ipAddress } : {}),
    ...(psu.userAgent ? { 'psu-user-agent': psu.userAgent } : {}),
    ...(withId && psu.id ? { 'psu-id': psu.id } : {}),
    ...(withId && psu.corporateId ? { 'psu-corporate-id': psu.corporateId } : {}),
  };
}

/**
 * Follows one answer about the SCA (the subject's creation, a start, an update, a status read) to the next step.
 * `fromAuthorisation`: the answer describes the authorisation resource itself, so its `self` link is where its status
 * is read (SEB's signing answers link only `self`).
 */
export async function followAnswer(context: ConsentContext, settings: ScaSettings, session: ScaSession, answer: ScaAnswer, state: string, fromAuthorisation: boolean): Promise<ScaOutcome> {
  const links = answer.links;
  const statusLink = links.scaStatus ?? (fromAuthorisation ? links.self : undefined) ?? session.scaStatusLink;
  let next: ScaSession = { ...session, ...(statusLink ? { scaStatusLink: statusLink } : {}), shown: { ...(answer.psuMessage ? { psuMessage: answer.psuMessage } : {}) } };
  if (answer.scaStatus === 'finalised' || answer.scaStatus === 'exempted') return { kind: 'finalised', session: next };
  if (answer.scaStatus === 'failed') return { kind: 'failed', session: next, reason: { code: 'sca_failed', detail: answer.psuMessage ? `the SCA failed: ${answer.psuMessage}` : 'the SCA failed at the bank' } };

  if (links.scaRedirect) {
    next = { ...next, approach: 'redirect', ...(links.confirmation ? { confirmationLink: links.confirmation } : {}) };
    return { kind: 'pending', session: next, nextAction: { type: 'redirect', url: checkedBrowserLink(context, links.scaRedirect) } };
  }
  if (links.scaOAuth) {
    checkOAuthLink(context, links.scaOAuth);
    const { url, step } = await buildAuthorizationRequest(context, { scopes: [session.oauthScope], state });
    return { kind: 'pending', session: { ...next, approach: 'oauth' }, nextAction: { type: 'redirect', url }, oauth: step };
  }
  if (links.startAuthorisation) return start(context, settings, next, links.startAuthorisation, state, {});
  if (links.startAuthorisationWithAuthenticationMethodSelection) {
    const method = pickMethod(session, settings, answer);
    return start(context, settings, next, links.startAuthorisationWithAuthenticationMethodSelection, state, { authenticationMethodId: method });
  }
  if (links.startAuthorisationWithPsuIdentification) {
    if (session.psu.id) return start(context, settings, next, links.startAuthorisationWithPsuIdentification, state, {});
    next = { ...next, startLink: links.startAuthorisationWithPsuIdentification, startNeeds: 'identification' };
    return embedded(next, 'psu_identification', answer);
  }
  if (links.startAuthorisationWithPsuAuthentication) {
    next = { ...next, startLink: links.startAuthorisationWithPsuAuthentication, startNeeds: 'authentication' };
    return embedded(next, session.psu.id ? 'psu_authentication' : 'psu_identification', answer);
  }
  if (links.startAuthorisationWithEncryptedPsuAuthentication) {
    return { kind: 'failed', session: next, reason: { code: 'sca_not_supported', detail: 'the bank asks for an encrypted PSU password, which bankgate does not send; prefer a redirect or decoupled SCA' } };
  }
  const update = links.authoriseTransaction ?? links.selectAuthenticationMethod ?? links.updatePsuAuthentication ?? links.updatePsuIdentification;
  if (update) {
    next = { ...next, approach: 'embedded', updateLink: update, startLink: undefined, startNeeds: undefined };
    const step: EmbeddedStep = links.authoriseTransaction ? 'sca_authentication' : links.selectAuthenticationMethod ? 'sca_method_selection' : links.updatePsuAuthentication ? 'psu_authentication' : 'psu_identification';
    return embedded(next, step, answer);
  }
  if (next.scaStatusLink && answer.scaStatus !== undefined) {
    // Nothing for the PSU to do at the TPP: the SCA runs elsewhere (the PSU's app). Poll its status.
    next = { ...next, approach: next.approach ?? 'decoupled' };
    return { kind: 'pending', session: next, nextAction: { type: 'decoupled', pollAfterMs: Math.max(settings.pollIntervalMs, 1000), ...(answer.psuMessage ? { psuMessage: answer.psuMessage } : {}) } };
  }
  return { kind: 'failed', session: next, reason: { code: 'sca_not_supported', detail: `the bank's answer links no SCA step bankgate knows (${Object.keys(links).join(', ') || 'no links'})` } };
}

/**
 * Goes on with what arrived: the PSU back at the callback (redirect confirmation, OAuth code), the PSU's data (embedded
 * steps) or a poll (decoupled). `oauth` is the authorization-code step in progress, for an OAuth SCA.
 */
export async function continueSca(context: ConsentContext, settings: ScaSettings, session: ScaSession, input: ContinueInput, state: string, oauth?: OAuthStep): Promise<ScaOutcome> {
  const bank = context.bank.name;
  if (input.kind === 'callback') {
    if (session.approach === 'oauth') {
      if (!oauth) throw new BankgateError('consent_failed', { status: 400, bank, detail: 'no OAuth authorisation is in progress: start again' });
      const tokens = await redeemAuthorizationCode(context, oauth, input.url, state);
      return { kind: 'finalised', session, tokens };
    }
    if (session.approach !== 'redirect') throw new BankgateError('consent_failed', { status: 400, bank, detail: 'this authorisation is not waiting for the PSU at the bank' });
    const code = input.url.searchParams.get('code');
    if (code && session.confirmationLink) {
      const confirmed = await context.call({ method: 'PUT', path: session.confirmationLink, headers: psuHeaders(session.psu, false), body: { confirmationCode: code }, authorization: 'connection' });
      if (confirmed.status >= 400 && !tppCodes(confirmed).includes('STATUS_INVALID')) throw bankErrorToProblem(bank, confirmed.operationId, confirmed.response);
      if (confirmed.status < 400) return followAnswer(context, settings, session, readScaAnswer(bank, confirmed, settings.statusNames), state, true);
    }
    // No code (the PSU cancelled: the nok URI), or nothing to confirm: the SCA status says how it ended.
    return readStatus(context, settings, session, state, input.url.searchParams.get('outcome') === 'nok' && !code);
  }
  if (input.kind === 'poll') {
    if (!session.scaStatusLink) return { kind: 'pending', session, nextAction: nextActionOf(session, settings) };
    const read = await context.call({ method: 'GET', path: session.scaStatusLink, headers: psuHeaders(session.psu, false), authorization: 'connection' });
    if (read.status === 429) return { kind: 'pending', session, nextAction: nextActionOf(session, settings) };
    if (read.status >= 400) throw bankErrorToProblem(bank, read.operationId, read.response);
    const answer = readScaAnswer(bank, read, settings.statusNames);
    // A status read of a running decoupled SCA: only its status matters (its links are the resource's own).
    if (answer.scaStatus === 'finalised' || answer.scaStatus === 'exempted' || answer.scaStatus === 'failed') return followAnswer(context, settings, session, { ...answer, links: {} }, state, true);
    return { kind: 'pending', session: { ...session, shown: { ...session.shown, ...(answer.psuMessage ? { psuMessage: answer.psuMessage } : {}) } }, nextAction: nextActionOf(session, settings) };
  }
  return embeddedAnswer(context, settings, session, input.data, state);
}

/** The nextAction a session is waiting on (to answer it again without calling the bank). */
export function nextActionOf(session: ScaSession, settings: ScaSettings): NextAction {
  if (session.embeddedStep) {
    const shown = session.shown ?? {};
    return {
      type: 'embedded',
      step: session.embeddedStep,
      ...(session.embeddedStep === 'sca_method_selection' && shown.methods ? { methods: shown.methods as never } : {}),
      ...(session.embeddedStep === 'sca_authentication' && shown.challenge ? { challenge: shown.challenge as never } : {}),
      ...(shown.psuMessage ? { psuMessage: shown.psuMessage } : {}),
    };
  }
  return { type: 'decoupled', pollAfterMs: Math.max(settings.pollIntervalMs, 1000), ...(session.shown?.psuMessage ? { psuMessage: session.shown.psuMessage } : {}) };
}

async function embeddedAnswer(context: ConsentContext, settings: ScaSettings, session: ScaSession, data: import('../protocol.js').PsuData, state: string): Promise<ScaOutcome> {
  const bank = context.bank.name;
  const step = session.embeddedStep;
  const missing = (field: string) => new BankgateError('bad_request', { status: 400, bank, detail: `this step (${step}) needs ${field} in the PSU data`, extra: { step } });
  if (!step) throw new BankgateError('bad_request', { status: 409, bank, detail: 'this authorisation does not wait for PSU data', extra: { nextAction: nextActionOf(session, settings) } });

  if (step === 'psu_identification') {
    if (!data.psuId) throw missing('psuId');
    const identified: ScaSession = { ...session, psu: { ...session.psu, id: data.psuId } };
    if (session.startLink && session.startNeeds === 'authentication') return embedded(identified, 'psu_authentication', {});
    if (session.startLink) return start(context, settings, identified, session.startLink, state, {});
    return update(context, settings, identified, {}, state, true);
  }
  if (step === 'psu_authentication') {
    if (!data.password) throw missing('password');
    const psu = data.psuId ? { ...session.psu, id: data.psuId } : session.psu;
    const body = { psuData: { password: data.password } };
    if (session.startLink) return start(context, settings, { ...session, psu }, session.startLink, state, body);
    return update(context, settings, { ...session, psu }, body, state, Boolean(data.psuId));
  }
  if (step === 'sca_method_selection') {
    if (!data.authenticationMethodId) throw missing('authenticationMethodId');
    return update(context, settings, session, { authenticationMethodId: data.authenticationMethodId }, state, false);
  }
  if (!data.scaAuthenticationData) throw missing('scaAuthenticationData');
  return update(context, settings, session, { scaAuthenticationData: data.scaAuthenticationData }, state, false);
}

/** POST a start link (`startAuthorisation…`) with the PSU's context, then follow the answer. */
async function start(context: ConsentContext, settings: ScaSettings, session: ScaSession, link: string, state: string, body: Record<string, unknown>): Promise<ScaOutcome> {
  const bank = context.bank.name;
  const started = await context.call({ method: 'POST', path: link, headers: scaRequestHeaders(context, session, state), body, authorization: 'connection' });
  if (started.status >= 400) return refused(context, settings, session, started, state);
  const next: ScaSession = { ...session, startLink: undefined, startNeeds: undefined, embeddedStep: undefined };
  return followAnswer(context, settings, next, readScaAnswer(bank, started, settings.statusNames), state, true);
}

/** PUT the PSU's data to the authorisation resource, then follow the answer. */
async function update(context: ConsentContext, settings: ScaSettings, session: ScaSession, body: Record<string, unknown>, state: string, withPsuId: boolean): Promise<ScaOutcome> {
  const bank = context.bank.name;
  const link = session.updateLink;
  if (!link) throw new BankgateError('consent_failed', { status: 409, bank, detail: 'the bank gave no authorisation resource to send the PSU data to: start again' });
  const updated = await context.call({ method: 'PUT', path: link, headers: psuHeaders(session.psu, withPsuId), body, authorization: 'connection' });
  if (updated.status >= 400) return refused(context, settings, session, updated, state);
  return followAnswer(context, settings, { ...session, embeddedStep: undefined }, readScaAnswer(bank, updated, settings.statusNames), state, true);
}

/**
 * The bank refused a step with the PSU's data (a wrong password or TAN): when the authorisation failed with it (too
 * many attempts), the outcome is `failed`; otherwise the PSU may try again: `psu_data_rejected` with the bank's words.
 */
async function refused(context: ConsentContext, settings: ScaSettings, session: ScaSession, response: OperationResponse, state: string): Promise<ScaOutcome> {
  const problem = bankErrorToProblem(context.bank.name, response.operationId, response.response);
  if (response.status >= 500 || response.status === 429) throw problem;
  const link = session.updateLink ?? session.scaStatusLink;
  if (link) {
    const read = await context.call({ method: 'GET', path: link, headers: psuHeaders(session.psu, false), authorization: 'connection' });
    if (read.status < 400 && readScaAnswer(context.bank.name, read, settings.statusNames).scaStatus === 'failed') {
      return { kind: 'failed', session, reason: { code: 'sca_failed', detail: `the SCA failed: ${problem.message.slice(0, 300)}` } };
    }
  } else if (response.status !== 401 && response.status !== 400) {
    throw problem;
  }
  throw new BankgateError('psu_data_rejected', { status: 422, bank: context.bank.name, detail: `the bank refused the PSU data: ${problem.message.slice(0, 300)}`, extra: { ...problem.extra, nextAction: nextActionOf(session, settings) } });
}

/** The SCA status after the PSU came back without a code to confirm: finalised, failed, or still running. */
async function readStatus(context: ConsentContext, settings: ScaSettings, session: ScaSession, state: string, cancelled: boolean): Promise<ScaOutcome> {
  if (!session.scaStatusLink) {
    return cancelled ? { kind: 'failed', session, reason: { code: 'sca_cancelled', detail: 'the PSU cancelled at the bank' } } : { kind: 'finalised', session };
  }
  const read = await context.call({ method: 'GET', path: session.scaStatusLink, headers: psuHeaders(session.psu, false), authorization: 'connection' });
  if (read.status >= 400) throw bankErrorToProblem(context.bank.name, read.operationId, read.response);
  const answer = readScaAnswer(context.bank.name, read, settings.statusNames);
  if (answer.scaStatus === 'failed' || (cancelled && answer.scaStatus !== 'finalised' && answer.scaStatus !== 'exempted')) {
    return { kind: 'failed', session, reason: { code: cancelled ? 'sca_cancelled' : 'sca_failed', detail: cancelled ? 'the PSU cancelled at the bank' : 'the SCA failed at the bank' } };
  }
  if (answer.scaStatus === 'finalised' || answer.scaStatus === 'exempted') return { kind: 'finalised', session };
  // Back from the bank, the signing not done yet (SEB's Digipass answers a moment later): poll it.
  return { kind: 'pending', session: { ...session, approach: session.approach ?? 'redirect' }, nextAction: { type: 'decoupled', pollAfterMs: Math.max(settings.pollIntervalMs, 1000) } };
}

function embedded(session: ScaSession, step: EmbeddedStep, answer: Partial<ScaAnswer>): ScaOutcome {
  const shown = {
    ...(answer.psuMessage ? { psuMessage: answer.psuMessage } : {}),
    ...(answer.scaMethods ? { methods: answer.scaMethods } : {}),
    ...(answer.challengeData ? { challenge: answer.challengeData } : {}),
  };
  const next: ScaSession = { ...session, approach: 'embedded', embeddedStep: step, shown };
  return { kind: 'pending', session: next, nextAction: nextActionOf(next, { statusNames: {}, pollIntervalMs: 0, scaMethods: {} }) };
}

/** The SCA method for the approach the caller prefers, among those the bank offers. */
function pickMethod(session: ScaSession, settings: ScaSettings, answer: ScaAnswer): string {
  const offered = answer.scaMethods?.map((m) => m.authenticationMethodId) ?? [];
  const wanted = settings.scaMethods[session.preferred ?? 'redirect'] ?? settings.scaMethods.redirect ?? settings.scaMethods.decoupled;
  if (wanted && (offered.length === 0 || offered.includes(wanted))) return wanted;
  const first = offered[0];
  if (!first) throw new BankgateError('bank_response_invalid', { status: 502, detail: 'the bank asks the TPP to choose an SCA method but offers none' });
  return first;
}

/** A link the PSU's browser is sent to: absolute https (http only on loopback, for sandboxes). */
function checkedBrowserLink(context: ConsentContext, link: string): string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new BankgateError('bank_response_invalid', { status: 502, bank: context.bank.name, detail: `bank ${context.bank.name} gave an scaRedirect that is no absolute URL` });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))) {
    throw new BankgateError('bank_response_invalid', { status: 502, bank: context.bank.name, detail: `bank ${context.bank.name} gave an scaRedirect that is not https` });
  }
  return url.href;
}

/** The `scaOAuth` link names the bank's configured authorization server: anything else is refused, never followed. */
function checkOAuthLink(context: ConsentContext, link: string): void {
  const issuer = new URL(context.bank.authorizationServer.issuer);
  let target: URL | undefined;
  try {
    target = new URL(link);
  } catch {
    target = undefined;
  }
  if (!target || target.origin !== issuer.origin) {
    throw new BankgateError('bank_response_invalid', {
      status: 502,
      bank: context.bank.name,
      detail: `bank ${context.bank.name}'s scaOAuth link is not on its configured authorization server (${issuer.origin}); set banks.${context.bank.name}.authorizationServer to the server it names`,
    });
  }
}
