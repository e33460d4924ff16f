/**
 * The consent engine: runs a bank's consent protocol (protocol.ts) for the consent API. It owns what no protocol
 * should: the store (the step in progress is kept on the connection as `pending`, found again by its `state`), the
 * atomic claim of a pending step before it runs (a second delivery of a callback, or two replicas polling, never run
 * a step twice), the consent window, the PSU-subject check of a re-consent (`consent.subjectChange`), the bounded
 * polling of a decoupled SCA and of an active consent's status, and what every bank call of a connection carries.
 */
import type { ResolvedBank } from '../config/resolve-config.js';
import { randomToken } from '../crypto/random.js';
import { BankgateError } from '../errors/bankgate-error.js';
import { withFields, type Logger } from '../log.js';
import type { Connection, ConnectionStore, PendingConsent } from '../store/connection.js';
import type { RouteTable } from '../surface/route-table.js';
import { createBankOAuth, type BankOAuth } from '../tokens/authorization-server.js';
import type { RevocationOutcome } from '../tokens/revoke.js';
import type { TokenEngine } from '../tokens/token-engine.js';
import { updateConnection } from '../tokens/update-connection.js';
import type { BankTransport } from '../transport/types.js';
import { createOperationCaller } from './operation-call.js';
import type { CallCredentials, ConsentContext, ConsentProtocol, ConsentRequest, ContinueInput, NextAction, PsuData, Step } from './protocol.js';
import { createPaymentEngine, type PaymentEngine } from './payment-engine.js';
import { CONSENT_PROTOCOLS } from './registry.js';
import { checkReturnTo } from './return-to.js';
import { budgetView, spendUnattended, unattendedReadOf, windowsOf, type BudgetView, type RollingWindows } from './unattended-budget.js';

/** How long one replica holds a pending step while it talks to the bank; a crashed holder frees it after this. */
const CLAIM_MS = 60_000;

export interface BeginConnectionInput {
  readonly bank: string;
  /** The owning caller (`Connection.owner`). */
  readonly owner: string;
  readonly connectionId?: string;
  readonly request: ConsentRequest;
  /** Where the PSU's browser goes after the callback: an absolute http(s) URL, checked here. */
  readonly returnTo?: string;
}

export interface ConsentEngine {
  /** Starts (or restarts) a consent: the connection, stored, and what the PSU must do (`nextAction`). */
  begin(input: BeginConnectionInput, requestId?: string): Promise<{ connection: Connection; nextAction?: NextAction }>;
  /** The PSU's browser back at `GET /callback/{bank}`: runs the step its `state` names. */
  complete(bank: string, url: URL, requestId?: string): Promise<{ connection: Connection; returnTo?: string }>;
  /** The PSU's answer to an embedded SCA step. */
  psuData(connection: Connection, data: PsuData, requestId?: string): Promise<Connection>;
  /**
   * `GET /connections/{id}`: a running decoupled SCA is polled at the bank (at most once per its `pollAfterMs`, across
   * replicas), an active consent's status read again once its `statusCheckSeconds` passed; an ended consent becomes
   * `reconsent_required` with its reason. Nothing is deleted.
   */
  refresh(connection: Connection, requestId?: string): Promise<Connection>;
  /**
   * The bank refused a call of the connection (401/403): reads the consent's status at the bank now; an expired or
   * PSU-revoked consent makes the connection `reconsent_required` with its reason. Nothing is deleted.
   */
  checkAfterRefusal(connection: Connection, requestId?: string): Promise<Connection>;
  /** Ends the consent at the bank; the caller forgets the connection whatever the outcome. */
  revoke(connection: Connection, requestId?: string): Promise<RevocationOutcome>;
  /** What every bank call acting for the connection carries (`Consent-ID`, whether a token is needed). */
  callCredentials(connection: Connection, route?: UnattendedRoute): CallCredentials;
  /**
   * Counts a read made without the PSU present against the consent's `frequencyPerDay` (per endpoint and account,
   * rolling 24 h), before the bank is called: 429 `unattended_budget_exhausted` once spent. Nothing when the PSU is
   * present, the read does not count (the protocol says which do), or the consent has no frequency.
   */
  spendUnattended(connection: Connection, route: UnattendedRoute, params: Readonly<Record<string, string>>, psuPresent: boolean): Promise<void>;
  /** The budget left, for `GET /connections/{id}`; undefined when the connection has none. */
  budget(connection: Connection): Promise<BudgetView | undefined>;
  /** Payments authorised through the gateway (`banks.<bank>.payments`). */
  readonly payments: PaymentEngine;
}

/** What the budget reads of a route. */
export type UnattendedRoute = Parameters<ConsentProtocol['countsAsUnattendedRead']>[0];

export interface ConsentEngineOptions {
  readonly banks: ReadonlyMap<string, ResolvedBank>;
  readonly transports: ReadonlyMap<string, BankTransport>;
  readonly table: RouteTable;
  readonly tokens: TokenEngine;
  readonly store: ConnectionStore;
  readonly log: Logger;
  readonly now: () => number;
  /** The gateway's public URL (no trailing slash): the callback is `<publicUrl>/callback/<bank>`. */
  readonly publicUrl: () => string;
  /** The unattended-read counters; default the store's rolling windows (or this process's when it has none). */
  readonly windows?: RollingWindows;
  /** Origins a `returnTo` may point at, besides the gateway's own (`returnToOrigins`). */
  readonly returnToOrigins?: readonly string[];
  /** The protocols by name; default every built-in one. */
  readonly protocols?: ReadonlyMap<string, ConsentProtocol>;
}

export function createConsentEngine(options: ConsentEngineOptions): ConsentEngine {
  const { banks, store, tokens, now } = options;
  const protocols = options.protocols ?? CONSENT_PROTOCOLS;
  const oauthByBank = new Map<string, BankOAuth>();
  const windows = options.windows ?? windowsOf(store);
  /** Unattended reads per day: what the bank granted, else the bank's configured default; undefined: no budget. */
  const frequencyOf = (connection: Connection): number | undefined => connection.consent?.frequencyPerDay ?? banks.get(connection.bank)?.consent.frequencyPerDay;

  const bankOf = (name: string): ResolvedBank => {
    const bank = banks.get(name);
    if (!bank) throw new BankgateError('unknown_bank', { status: 404, detail: `no bank named ${JSON.stringify(name).slice(0, 60)} is configured; known: ${[...banks.keys()].join(', ')}` });
    return bank;
  };
  const protocolOf = (bank: ResolvedBank): ConsentProtocol => {
    const protocol = protocols.get(bank.consent.protocol);
    if (!protocol) throw new BankgateError('config_invalid', { status: 500, bank: bank.name, detail: `banks.${bank.name}.consent.protocol ${bank.consent.protocol} is not available` });
    return protocol;
  };

  /** What a protocol gets for one bank, acting for `connection` when there is one. */
  const contextOf = (bank: ResolvedBank, connection: Connection | undefined, requestId: string | undefined): ConsentContext => {
    const transport = options.transports.get(bank.name)!;
    let oauth = oauthByBank.get(bank.name);
    if (!oauth) {
      oauth = createBankOAuth(bank, transport);
      oauthByBank.set(bank.name, oauth);
    }
    const log = requestId === undefined ? options.log : withFields(options.log, { requestId });
    return {
      bank,
      oauth,
      transport,
      call: createOperationCaller({
        bank,
        table: options.table,
        transport,
        clientToken: (scopes) => tokens.clientAccessToken(bank.name, scopes),
        connectionToken: async () => (connection?.status === 'active' && connection.tokens ? tokens.psuAccessToken(connection, requestId) : undefined),
      }),
      clientAccessToken: (scopes) => tokens.clientAccessToken(bank.name, scopes),
      callbackUrl: `${options.publicUrl()}/callback/${bank.name}`,
      now,
      log,
    };
  };

  const payments = createPaymentEngine({ store, now, log: options.log, banks, contextOf: (bank, connection, requestId) => contextOf(bank, connection, requestId) });

  /**
   * Claims the pending step `state` of connection `id` (compare-and-set): undefined when another delivery holds or
   * finished it. `extra` is written with the claim (e.g. `polledAt`).
   */
  const claim = async (id: string, state: string, extra: Partial<PendingConsent> = {}): Promise<{ connection: Connection; claimId: string } | undefined> => {
    const claimId = randomToken(9);
    const at = now();
    const claimed = await updateConnection(store, id, (latest) => {
      const pending = latest.pending;
      if (!pending || pending.state !== state || (pending.claim && pending.claim.until > at)) return undefined;
      return { ...latest, pending: { ...pending, ...extra, claim: { id: claimId, until: at + CLAIM_MS } } };
    });
    return claimed ? { connection: claimed, claimId } : undefined;
  };

  /** Frees a claim without changing the step (the PSU may try again). */
  const release = (id: string, claimId: string) =>
    updateConnection(store, id, (latest) => {
      if (latest.pending?.claim?.id !== claimId) return undefined;
      const { claim: _claim, ...pending } = latest.pending;
      return { ...latest, pending };
    });

  /** Writes a step's outcome onto the connection that still holds the claim. */
  const apply = async (context: ConsentContext, protocol: ConsentProtocol, id: string, claimId: string, step: Step): Promise<Connection> => {
    const at = now();
    let refusedSubject: Connection | undefined;
    const stored = await updateConnection(store, id, (latest) => {
      const pending = latest.pending;
      if (!pending || pending.claim?.id !== claimId) return undefined;
      if (step.outcome === 'pending') {
        const { codeVerifier: _v, nonce: _n, redirectUri: _r, claim: _c, ...kept } = pending;
        return {
          ...latest,
          updatedAt: at,
          ...(latest.status !== 'active' && step.consent ? { consent: step.consent } : {}),
          pending: { ...kept, session: step.session, nextAction: step.nextAction, ...(step.oauth ?? {}) },
        };
      }
      if (step.outcome === 'failed') {
        const ended = { ...latest, pending: undefined, updatedAt: at };
        // A failed re-consent leaves an active connection as it was; a first consent that failed says why.
        return latest.status === 'active' ? ended : { ...ended, status: 'failed', reason: step.reason, ...(step.consent ? { consent: step.consent } : {}) };
      }
      const subject = step.subject ?? latest.subject;
      const changed = latest.status !== 'pending' && latest.subject !== undefined && step.subject !== undefined && step.subject !== latest.subject;
      if (changed && context.bank.consent.subjectChange === 'refuse') {
        refusedSubject = { ...latest, consent: step.consent, tokens: step.tokens };
        return { ...latest, pending: undefined, updatedAt: at };
      }
      return {
        ...latest,
        status: 'active',
        pending: undefined,
        reason: undefined,
        updatedAt: at,
        consent: step.consent,
        tokens: step.tokens,
        scopes: step.scopes ?? latest.scopes,
        ...(subject !== undefined ? { subject } : {}),
        ...(changed ? { psu: { changedAt: at } } : {}),
      };
    });
    if (!stored) throw new BankgateError('consent_failed', { status: 409, bank: context.bank.name, detail: `connection ${id} was deleted or its consent restarted meanwhile: start again with POST /connections` });
    if (refusedSubject) {
      // The new consent is another PSU's: end it at the bank, keep the connection's own.
      await protocol.revoke(context, refusedSubject).catch(() => 'failed');
      context.log.warn('consent.subject_changed', { bank: context.bank.name, connectionId: id });
      throw new BankgateError('consent_failed', {
        status: 409,
        bank: context.bank.name,
        detail: `connection ${id} belongs to another PSU than the one who just consented; the new consent was ended at the bank and the connection kept (banks.${context.bank.name}.consent.subjectChange: 'flag' accepts it)`,
        extra: { reason: 'psu_changed' },
      });
    }
    if (step.outcome === 'authorised') context.log.info('consent.completed', { bank: context.bank.name, connectionId: id, protocol: protocol.name });
    if (step.outcome === 'failed') context.log.warn('consent.failed', { bank: context.bank.name, connectionId: id, code: step.reason.code });
    return stored;
  };

  /** Runs one continue-step on a claimed pending consent; errors end it, except the ones the PSU can fix. */
  const step = async (connection: Connection, state: string, input: ContinueInput, requestId: string | undefined, extra: Partial<PendingConsent> = {}): Promise<Connection> => {
    const bank = bankOf(connection.bank);
    const protocol = protocolOf(bank);
    const claimed = await claim(connection.id, state, extra);
    if (!claimed) {
      if (input.kind === 'poll') return (await store.get(connection.id)) ?? connection;
      throw new BankgateError('consent_in_progress', { status: 409, bank: bank.name, detail: `connection ${connection.id}: this step is already being processed, or was; GET /connections/${connection.id} says where it stands` });
    }
    const pending = claimed.connection.pending!;
    const context = contextOf(bank, claimed.connection, requestId);
    let result: Step;
    try {
      const oauth = pending.codeVerifier && pending.redirectUri ? { codeVerifier: pending.codeVerifier, redirectUri: pending.redirectUri, ...(pending.nonce ? { nonce: pending.nonce } : {}) } : undefined;
      result = await protocol.continue(context, { session: pending.session ?? {}, state, ...(oauth ? { oauth } : {}) }, input, claimed.connection);
    } catch (error) {
      const failure = error instanceof BankgateError ? error : new BankgateError('consent_failed', { status: 502, bank: bank.name, detail: error instanceof Error ? error.message : String(error), cause: error });
      // The PSU can answer again (a wrong password, a missing field), and a bank's hiccup on a poll is retried by the next one.
      if (failure.code === 'psu_data_rejected' || failure.code === 'bad_request' || input.kind === 'poll') {
        await release(connection.id, claimed.claimId);
        throw failure;
      }
      await apply(context, protocol, connection.id, claimed.claimId, { outcome: 'failed', reason: { code: failure.code, detail: failure.message.slice(0, 500) } }).catch(() => undefined);
      if (failure.code === 'consent_failed') throw failure;
      throw new BankgateError('consent_failed', { status: 502, bank: bank.name, detail: failure.message, cause: failure, extra: failure.extra });
    }
    return apply(context, protocol, connection.id, claimed.claimId, result);
  };

  /** Reads an active consent's status at the bank (once `statusCheckSeconds` passed, or now when `force`). */
  const checkStatus = async (connection: Connection, requestId: string | undefined, force: boolean): Promise<Connection> => {
    if (connection.status !== 'active' || !connection.consent?.id) return connection;
    const bank = bankOf(connection.bank);
    const at = now();
    const every = bank.consent.protocol === 'berlin-group' ? bank.consent.statusCheckSeconds * 1000 : Number.POSITIVE_INFINITY;
    if (!force && at - (connection.consent.checkedAt ?? 0) < every) return connection;
    const status = await protocolOf(bank).status(contextOf(bank, connection, requestId), connection);
    const updated = await updateConnection(store, connection.id, (latest) => {
      if (latest.status !== 'active' || latest.consent?.id !== connection.consent?.id) return undefined;
      const consent = status.consent ?? { ...latest.consent!, checkedAt: at };
      if (status.state === 'ended') return { ...latest, status: 'reconsent_required', reason: status.reason, consent, updatedAt: at };
      return { ...latest, consent };
    });
    if (updated?.status === 'reconsent_required') options.log.warn('consent.ended', { bank: bank.name, connectionId: connection.id, reason: updated.reason?.code });
    return updated ?? (await store.get(connection.id)) ?? connection;
  };

  return {
    async begin(input, requestId) {
      const bank = bankOf(input.bank);
      const protocol = protocolOf(bank);
      if (input.returnTo !== undefined) checkReturnTo(input.returnTo, options.returnToOrigins ?? [], options.publicUrl());
      const existing = input.connectionId ? await store.get(input.connectionId) : undefined;
      if (existing && (existing.owner !== input.owner || existing.bank !== bank.name)) {
        // Same answer whether the id belongs to another caller or another bank: nothing leaks about it.
        throw new BankgateError('bad_request', { status: 409, detail: `connectionId ${input.connectionId} is already in use; choose another` });
      }
      const state = randomToken(24);
      const context = contextOf(bank, existing, requestId);
      const begun = await protocol.begin(context, { request: input.request, state, ...(existing ? { existing } : {}) });
      const at = now();
      const id = existing?.id ?? input.connectionId ?? `conn_${randomToken(12)}`;
      // The scopes the consent asks for (the `oauth` protocol's session says them).
      const sessionScopes = begun.outcome === 'pending' ? begun.session.scopes : undefined;
      const scopes = Array.isArray(sessionScopes) ? (sessionScopes as string[]) : (input.request.scopes ?? existing?.scopes ?? []);
      const claimId = randomToken(9);
      // The new step is written claimed, so that an authorised or failed first step goes through `apply` like the rest.
      const pending: PendingConsent = {
        state,
        expiresAt: at + bank.consent.windowSeconds * 1000,
        ...(input.returnTo !== undefined ? { returnTo: input.returnTo } : {}),
        session: begun.outcome === 'pending' ? begun.session : {},
        ...(begun.outcome === 'pending' ? { nextAction: begun.nextAction, ...(begun.oauth ?? {}) } : {}),
        ...(begun.outcome !== 'pending' ? { claim: { id: claimId, until: at + CLAIM_MS } } : {}),
      };
      const fresh: Connection = {
        id,
        bank: bank.name,
        owner: input.owner,
        status: 'pending',
        scopes,
        createdAt: at,
        updatedAt: at,
        ...(begun.outcome === 'pending' && begun.consent ? { consent: begun.consent } : {}),
        pending,
      };
      // An existing connection keeps whatever a concurrent refresh stored; only the pending consent is added.
      const stored = existing
        ? await updateConnection(store, existing.id, (latest) => ({
            ...latest,
            status: latest.status === 'active' ? 'active' : 'pending',
            reason: latest.status === 'active' ? latest.reason : undefined,
            scopes: latest.status === 'active' ? latest.scopes : scopes,
            updatedAt: at,
            pending,
            ...(latest.status !== 'active' && begun.outcome === 'pending' && begun.consent ? { consent: begun.consent } : {}),
          }))
        : await store.put(fresh);
      if (!stored) throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${id} was deleted meanwhile; start again` });
      context.log.info('consent.started', { bank: bank.name, connectionId: id, protocol: protocol.name, ...(begun.outcome === 'pending' ? { nextAction: begun.nextAction.type } : {}) });
      if (begun.outcome === 'pending') return { connection: stored, nextAction: begun.nextAction };
      const connection = await apply(context, protocol, id, claimId, begun);
      return { connection };
    },

    async complete(bankName, url, requestId) {
      bankOf(bankName);
      const state = url.searchParams.get('state');
      const connection = state ? await store.findByState(state) : undefined;
      const pending = connection?.pending;
      if (!connection || !pending || connection.bank !== bankName || !state) {
        throw new BankgateError('consent_failed', { status: 400, bank: bankName, detail: 'unknown or already used state: start again with POST /connections' });
      }
      if (pending.expiresAt < now()) {
        await updateConnection(store, connection.id, (latest) =>
          latest.pending?.state === state ? { ...latest, pending: undefined, updatedAt: now(), ...(latest.status === 'active' ? {} : { status: 'failed' as const }), reason: { code: 'consent_expired', detail: 'the PSU did not finish in time' } } : undefined,
        );
        throw new BankgateError('consent_failed', { status: 400, bank: bankName, detail: 'the consent took too long and expired: start again with POST /connections' });
      }
      if (connection.kind === 'payment') return { connection: await payments.complete(connection, url, requestId) };
      const done = await step(connection, state, { kind: 'callback', url }, requestId);
      return { connection: done, ...(pending.returnTo ? { returnTo: pending.returnTo } : {}) };
    },

    async psuData(connection, data, requestId) {
      const pending = connection.pending;
      if (!pending || pending.nextAction?.type !== 'embedded') {
        throw new BankgateError('bad_request', { status: 409, bank: connection.bank, detail: `connection ${connection.id} is not waiting for PSU data${pending?.nextAction ? ` (its next action is ${pending.nextAction.type})` : ''}` });
      }
      if (pending.expiresAt < now()) throw new BankgateError('consent_failed', { status: 400, bank: connection.bank, detail: 'the consent took too long and expired: start again with POST /connections' });
      return step(connection, pending.state, { kind: 'psu-data', data }, requestId);
    },

    async refresh(connection, requestId) {
      const pending = connection.pending;
      const at = now();
      if (pending?.nextAction?.type === 'decoupled' && pending.expiresAt >= at) {
        if (at - (pending.polledAt ?? 0) < pending.nextAction.pollAfterMs) return connection;
        return step(connection, pending.state, { kind: 'poll' }, requestId, { polledAt: at });
      }
      return checkStatus(connection, requestId, false);
    },

    checkAfterRefusal(connection, requestId) {
      return checkStatus(connection, requestId, true);
    },

    async revoke(connection, requestId) {
      const bank = bankOf(connection.bank);
      return protocolOf(bank).revoke(contextOf(bank, connection, requestId), connection);
    },

    callCredentials(connection, route) {
      return protocolOf(bankOf(connection.bank)).callCredentials(connection, route);
    },

    async spendUnattended(connection, route, params, psuPresent) {
      if (psuPresent || connection.status !== 'active') return;
      const frequency = frequencyOf(connection);
      if (frequency === undefined || !protocolOf(bankOf(connection.bank)).countsAsUnattendedRead(route)) return;
      const read = unattendedReadOf(route.operationId, params);
      await spendUnattended(windows, connection, frequency, read, now());
      const entry = `${read.endpoint} ${read.account}`;
      if (!(connection.unattended?.reads ?? []).includes(entry)) {
        await updateConnection(store, connection.id, (latest) => {
          const reads = latest.unattended?.reads ?? [];
          return reads.includes(entry) || reads.length >= 200 ? undefined : { ...latest, unattended: { reads: [...reads, entry] } };
        });
      }
    },

    payments,

    async budget(connection) {
      const frequency = frequencyOf(connection);
      return frequency === undefined ? undefined : budgetView(windows, connection, frequency, now());
    },
  };
}
