/**
 * Runs the UK Open Banking protocol for the token engine's `POST /connections`, `GET /callback/{bank}` and
 * `DELETE /connections/{id}` of a bank with `consent.protocol: 'uk-open-banking'`: the store work around the
 * protocol's steps (the pending session on the connection, found again by `state`, ended by compare-and-set), as
 * tokens/consent.ts does it for the plain redirect. The consent engine of contracts.md §4 (branch `consent`) does
 * the same for every protocol; at merge this file gives way to it and `ukOpenBanking` registers there.
 */
import { randomToken } from '../../crypto/random.js';
import { BankgateError } from '../../errors/bankgate-error.js';
import { connectionStorageId, storageIdOf, type Connection, type PendingConsent } from '../../store/connection.js';
import { CONNECTION_ID_PATTERN } from '../../surface/connection-api.js';
import type { BeginConsentInput } from '../../tokens/consent.js';
import { bankOAuth, type TokenContext } from '../../tokens/context.js';
import type { RevocationOutcome } from '../../tokens/revoke.js';
import { answerFromSettled, claimConsentState, CODE_EXCHANGE_TIMEOUT_MS, settleConsent } from '../../tokens/state-claim.js';
import { updateConnection } from '../../tokens/update-connection.js';
import type { BankTransport } from '../../transport/types.js';
import type { Step, UkobContext } from './protocol.js';
import { ukOpenBanking } from './uk-open-banking.js';

const CONSENT_WINDOW_MS = 15 * 60_000;

export interface UkobConsents {
  begin(context: TokenContext, input: BeginConsentInput & { readonly psuIpAddress?: string }): Promise<{ connection: Connection; authorizeUrl: string }>;
  complete(context: TokenContext, bank: string, callbackUrl: URL): Promise<{ connection: Connection; returnTo?: string }>;
  revoke(context: TokenContext, connection: Connection): Promise<RevocationOutcome>;
}

export interface UkobConsentsOptions {
  readonly transports: ReadonlyMap<string, BankTransport>;
  readonly clientAccessToken: (bank: string, scopes: readonly string[]) => Promise<string>;
}

/** True when the bank's consents are UK Open Banking intents. */
export function usesUkOpenBanking(context: TokenContext, bank: string): boolean {
  return context.banks.get(bank)?.bank.consent.protocol === 'uk-open-banking';
}

export function createUkobConsents(options: UkobConsentsOptions): UkobConsents {
  const protocolContext = (context: TokenContext, bankName: string, callbackUrl: string, signal?: AbortSignal): UkobContext => {
    const side = bankOAuth(context, bankName);
    return {
      bank: side.bank,
      oauth: side,
      transport: options.transports.get(bankName)!,
      clientAccessToken: (scopes) => options.clientAccessToken(bankName, scopes),
      callbackUrl,
      now: context.now,
      log: context.log,
      ...(signal ? { signal } : {}),
    };
  };

  return {
    async begin(context, input) {
      const { bank } = bankOAuth(context, input.bank);
      if (input.connectionId !== undefined && !CONNECTION_ID_PATTERN.test(input.connectionId)) {
        throw new BankgateError('bad_request', { status: 400, detail: 'connectionId must be 1–128 characters of A–Z, a–z, 0–9, ".", "_" or "-"' });
      }
      if (input.returnTo !== undefined && !/^https?:\/\//.test(input.returnTo)) throw new BankgateError('bad_request', { status: 400, detail: 'returnTo must be an absolute http(s) URL' });
      // Connection ids are per caller (contracts §2): what is found here is the caller's own, never another caller's.
      let existing = input.connectionId ? await context.store.get(connectionStorageId(input.owner, input.connectionId)) : undefined;
      if (existing) assertSameBank(existing, bank.name);
      const scopes = input.scopes ?? ['accounts'];
      const state = randomToken(32);
      const step = await ukOpenBanking.begin(protocolContext(context, bank.name, input.redirectUri), {
        request: { scopes, psu: input.psuIpAddress ? { ipAddress: input.psuIpAddress } : {}, ...(input.consentId !== undefined ? { consentId: input.consentId } : {}) },
        state,
        ...(existing ? { existing } : {}),
      });
      if (step.outcome !== 'pending' || !step.oauth) throw new BankgateError('consent_failed', { status: 502, bank: bank.name, detail: step.outcome === 'failed' ? step.reason.detail : 'the consent needs no PSU' });

      const now = context.now();
      const pending: PendingConsent = { state, ...step.oauth, returnTo: input.returnTo, expiresAt: now + CONSENT_WINDOW_MS, session: step.session };
      // Created only if absent (atomic in every store); a concurrent creation of the same id by this caller makes
      // this a re-consent of that connection. A re-consent keeps the connection's tokens (and its current consent)
      // until the new one is authorised.
      const fresh: Connection = { id: existing?.id ?? input.connectionId ?? `conn_${randomToken(12)}`, bank: bank.name, owner: input.owner, status: 'pending', scopes, createdAt: now, updatedAt: now, pending };
      let stored = existing ? undefined : await context.store.create(fresh);
      if (!stored) {
        existing ??= await context.store.get(storageIdOf(fresh));
        if (existing) assertSameBank(existing, bank.name);
        stored = await updateConnection(context.store, storageIdOf(fresh), (latest) => (latest.bank !== bank.name ? undefined : { ...latest, updatedAt: now, pending }));
      }
      if (!stored) throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${input.connectionId} was deleted meanwhile; start again` });
      context.log.info('consent.started', { bank: bank.name, connectionId: stored.id, protocol: ukOpenBanking.name });
      return { connection: stored, authorizeUrl: step.nextAction.url };
    },

    async complete(context, bankName, callbackUrl) {
      const state = callbackUrl.searchParams.get('state');
      // Claimed atomically before the code is exchanged (tokens/state-claim.ts): a second delivery of this callback
      // never reaches the bank; it is answered from the first one's outcome. Expired consents are settled there.
      const claim = state ? await claimConsentState(context, bankName, state) : ({ kind: 'unknown' } as const);
      if (claim.kind === 'unknown') {
        throw new BankgateError('consent_failed', { status: 400, bank: bankName, detail: 'unknown or already used state: start again with POST /connections' });
      }
      if (claim.kind === 'settled') return answerFromSettled(bankName, claim);
      const { connection, pending, claimant } = claim;
      let step: Step;
      try {
        if (!pending.session) throw new BankgateError('consent_failed', { status: 400, bank: bankName, detail: 'this consent was started without an intent: start again with POST /connections' });
        step = await ukOpenBanking.continue(
          protocolContext(context, bankName, pending.redirectUri, AbortSignal.timeout(CODE_EXCHANGE_TIMEOUT_MS)),
          { session: pending.session, state: pending.state, oauth: { codeVerifier: pending.codeVerifier, redirectUri: pending.redirectUri, ...(pending.nonce ? { nonce: pending.nonce } : {}) } },
          { kind: 'callback', url: callbackUrl },
          connection,
        );
      } catch (error) {
        const detail = error instanceof BankgateError ? error.message : 'unexpected error';
        step = { outcome: 'failed', reason: { code: error instanceof BankgateError ? error.code : 'internal_error', detail } };
      }
      if (step.outcome !== 'authorised') {
        const reason = step.outcome === 'failed' ? step.reason : { code: 'consent_failed', detail: 'the bank asked for another step' };
        const status = reason.code === 'consent_rejected' ? 400 : 502;
        // The intent as the bank left it is kept only on a connection that has no authorised consent of its own.
        const fields = step.outcome === 'failed' && step.consent && connection.status !== 'active' ? { consent: step.consent } : {};
        await settleConsent(context, connection, pending.state, claimant, { outcome: 'failed', error: { code: reason.code, status, detail: reason.detail }, reason, fields });
        context.log.warn('consent.failed', { bank: bankName, connectionId: connection.id, code: reason.code, detail: reason.detail });
        throw new BankgateError('consent_failed', { status, bank: bankName, detail: reason.detail, extra: { reason: reason.code } });
      }
      const fields: Partial<Connection> = {
        status: 'active',
        reason: undefined,
        ...(step.tokens ? { tokens: step.tokens } : {}),
        ...(step.scopes ? { scopes: step.scopes } : {}),
        consent: step.consent,
        ...(step.subject ? { subject: step.subject } : {}),
      };
      // Written only onto the connection that still waits for this state under this claim.
      const settled = await settleConsent(context, connection, pending.state, claimant, { outcome: 'active', fields });
      if (!settled) throw new BankgateError('consent_failed', { status: 409, bank: bankName, detail: `connection ${connection.id} was deleted or its consent restarted meanwhile: start again with POST /connections` });
      context.log.info('consent.completed', { bank: bankName, connectionId: connection.id, protocol: ukOpenBanking.name });
      // A re-consent: the intent it replaces is ended at the bank (best effort; its tokens are forgotten either way).
      const previous = connection.consent;
      if (previous?.id && previous.id !== step.consent.id) {
        const outcome = await ukOpenBanking.revoke(protocolContext(context, bankName, pending.redirectUri), connection);
        context.log.info('consent.replaced', { bank: bankName, connectionId: connection.id, revocation: outcome });
      }
      return answerFromSettled(bankName, settled);
    },

    revoke(context, connection) {
      return ukOpenBanking.revoke(protocolContext(context, connection.bank, ''), connection);
    },
  };
}

/** A connection id names one connection of a caller, at one bank. */
function assertSameBank(existing: Connection, bank: string): void {
  if (existing.bank !== bank) {
    throw new BankgateError('connection_bank_mismatch', { status: 409, bank, detail: `your connection ${existing.id} is with bank ${existing.bank}, not ${bank}: choose another connectionId, or DELETE it first` });
  }
}
