/**
 * Runs the UK Open Banking protocol for the token engine's `POST /connections`, `GET /callback/{bank}` and
 * `DELETE /connections/{id}` of a bank with `consent.protocol: 'uk-open-banking'`: the store work around the
 * protocol's steps (the pending session on the connection, found again by `state`, ended by compare-and-set), as
 * tokens/consent.ts does it for the plain redirect. The consent engine of contracts.md §4 (branch `consent`) does
 * the same for every protocol; at merge this file gives way to it and `ukOpenBanking` registers there.
 */
import { randomToken } from '../../crypto/random.js';
import { BankgateError } from '../../errors/bankgate-error.js';
import type { Connection } from '../../store/connection.js';
import type { BeginConsentInput } from '../../tokens/consent.js';
import { bankOAuth, type TokenContext } from '../../tokens/context.js';
import type { RevocationOutcome } from '../../tokens/revoke.js';
import { updateConnection } from '../../tokens/update-connection.js';
import type { BankTransport } from '../../transport/types.js';
import type { Step, UkobContext } from './protocol.js';
import { ukOpenBanking } from './uk-open-banking.js';

const CONSENT_WINDOW_MS = 15 * 60_000;
const CONNECTION_ID = /^[A-Za-z0-9._-]{1,128}$/;

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
  const protocolContext = (context: TokenContext, bankName: string, callbackUrl: string): UkobContext => {
    const side = bankOAuth(context, bankName);
    return {
      bank: side.bank,
      oauth: side,
      transport: options.transports.get(bankName)!,
      clientAccessToken: (scopes) => options.clientAccessToken(bankName, scopes),
      callbackUrl,
      now: context.now,
      log: context.log,
    };
  };

  return {
    async begin(context, input) {
      const { bank } = bankOAuth(context, input.bank);
      if (input.connectionId !== undefined && !CONNECTION_ID.test(input.connectionId)) {
        throw new BankgateError('bad_request', { status: 400, detail: 'connectionId must be 1–128 characters of A–Z, a–z, 0–9, ".", "_" or "-"' });
      }
      if (input.returnTo !== undefined && !/^https?:\/\//.test(input.returnTo)) throw new BankgateError('bad_request', { status: 400, detail: 'returnTo must be an absolute http(s) URL' });
      const existing = input.connectionId ? await context.store.get(input.connectionId) : undefined;
      if (existing && (existing.owner !== input.owner || existing.bank !== bank.name)) {
        throw new BankgateError('bad_request', { status: 409, detail: `connectionId ${input.connectionId} is already in use; choose another` });
      }
      const scopes = input.scopes ?? ['accounts'];
      const state = randomToken(32);
      const step = await ukOpenBanking.begin(protocolContext(context, bank.name, input.redirectUri), {
        request: { scopes, psu: input.psuIpAddress ? { ipAddress: input.psuIpAddress } : {}, ...(input.consentId !== undefined ? { consentId: input.consentId } : {}) },
        state,
        ...(existing ? { existing } : {}),
      });
      if (step.outcome !== 'pending' || !step.oauth) throw new BankgateError('consent_failed', { status: 502, bank: bank.name, detail: step.outcome === 'failed' ? step.reason.detail : 'the consent needs no PSU' });

      const now = context.now();
      const pending = { state, ...step.oauth, returnTo: input.returnTo, expiresAt: now + CONSENT_WINDOW_MS, session: step.session };
      // A re-consent keeps the connection's tokens (and its current consent) until the new one is authorised.
      const stored = existing
        ? await updateConnection(context.store, existing.id, (latest) => ({ ...latest, updatedAt: now, pending }))
        : await context.store.put({ id: input.connectionId ?? `conn_${randomToken(12)}`, bank: bank.name, owner: input.owner, status: 'pending', scopes, createdAt: now, updatedAt: now, pending });
      if (!stored) throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${input.connectionId} was deleted meanwhile; start again` });
      context.log.info('consent.started', { bank: bank.name, connectionId: stored.id, protocol: ukOpenBanking.name });
      return { connection: stored, authorizeUrl: step.nextAction.url };
    },

    async complete(context, bankName, callbackUrl) {
      const state = callbackUrl.searchParams.get('state');
      const connection = state ? await context.store.findByState(state) : undefined;
      const pending = connection?.pending;
      if (!connection || !pending || connection.bank !== bankName || !pending.session) {
        throw new BankgateError('consent_failed', { status: 400, bank: bankName, detail: 'unknown or already used state: start again with POST /connections' });
      }
      const end = (change: (latest: Connection) => Connection) => updateConnection(context.store, connection.id, (latest) => (latest.pending?.state === pending.state ? change(latest) : undefined));
      if (pending.expiresAt < context.now()) {
        await end((latest) => ({ ...latest, pending: undefined, updatedAt: context.now(), reason: { code: 'consent_expired', detail: 'the PSU did not finish in time' } }));
        throw new BankgateError('consent_failed', { status: 400, bank: bankName, detail: 'the consent took too long and expired: start again with POST /connections' });
      }
      let step: Step;
      try {
        step = await ukOpenBanking.continue(
          protocolContext(context, bankName, pending.redirectUri),
          { session: pending.session, state: pending.state, oauth: { codeVerifier: pending.codeVerifier, redirectUri: pending.redirectUri, ...(pending.nonce ? { nonce: pending.nonce } : {}) } },
          { kind: 'callback', url: callbackUrl },
          connection,
        );
      } catch (error) {
        const detail = error instanceof BankgateError ? error.message : 'unexpected error';
        step = { outcome: 'failed', reason: { code: error instanceof BankgateError ? error.code : 'internal_error', detail } };
      }
      const now = context.now();
      if (step.outcome !== 'authorised') {
        const reason = step.outcome === 'failed' ? step.reason : { code: 'consent_failed', detail: 'the bank asked for another step' };
        await end((latest) => ({ ...latest, pending: undefined, updatedAt: now, reason, ...(step.outcome === 'failed' && step.consent && latest.status !== 'active' ? { consent: step.consent } : {}) }));
        context.log.warn('consent.failed', { bank: bankName, connectionId: connection.id, code: reason.code, detail: reason.detail });
        throw new BankgateError('consent_failed', { status: reason.code === 'consent_rejected' ? 400 : 502, bank: bankName, detail: reason.detail, extra: { reason: reason.code } });
      }
      let replaced: Connection | undefined;
      const active = await end((latest) => ({
        ...(replaced = latest),
        status: 'active',
        pending: undefined,
        reason: undefined,
        tokens: step.tokens ?? latest.tokens,
        scopes: step.scopes ?? latest.scopes,
        consent: step.consent,
        subject: step.subject ?? latest.subject,
        updatedAt: now,
      }));
      if (!active) throw new BankgateError('consent_failed', { status: 409, bank: bankName, detail: `connection ${connection.id} was deleted or its consent restarted meanwhile: start again with POST /connections` });
      context.log.info('consent.completed', { bank: bankName, connectionId: connection.id, protocol: ukOpenBanking.name });
      // A re-consent: the intent it replaces is ended at the bank (best effort; its tokens are forgotten either way).
      const previous = replaced?.consent;
      if (previous?.id && previous.id !== step.consent.id) {
        const outcome = await ukOpenBanking.revoke(protocolContext(context, bankName, pending.redirectUri), replaced!);
        context.log.info('consent.replaced', { bank: bankName, connectionId: connection.id, revocation: outcome });
      }
      return { connection: active, ...(pending.returnTo ? { returnTo: pending.returnTo } : {}) };
    },

    revoke(context, connection) {
      return ukOpenBanking.revoke(protocolContext(context, connection.bank, ''), connection);
    },
  };
}
