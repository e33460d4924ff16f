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
import { connectionStorageId, storageIdOf, type Connection, type ConnectionStore, type PendingConsent, type SettledConsent } from '../store/connection.js';
import type { ConsentJournalEntry } from '../store/token-journal.js';
import type { RouteTable } from '../surface/route-table.js';
import { createBankOAuth, type BankOAuth } from '../tokens/authorization-server.js';
import type { RevocationOutcome } from '../tokens/revoke.js';
import { answerFromSettled } from '../tokens/state-claim.js';
import type { TokenEngine } from '../tokens/token-engine.js';
import { updateConnection } from '../tokens/update-connection.js';
import type { BankTransport } from '../transport/types.js';
import { createOperationCaller } from './operation-call.js';
import { TERM_NAMES, termsAsked, type CallCredentials, type ConsentContext, type ConsentProtocol, type ConsentRequest, type ContinueInput, type NextAction, type PsuData, type Step } from './protocol.js';
import { createPaymentEngine, type PaymentEngine } from './payment-engine.js';
import { CONSENT_PROTOCOLS } from './registry.js';
import { checkReturnTo } from './return-to.js';
import { budgetView, spendUnattended, unattendedReadOf, type BudgetView, type RollingWindows } from './unattended-budget.js';

/** How long one replica holds a pending step while it talks to the bank; a crashed holder frees it after this. */
const CLAIM_MS = 60_000;
/** A settled callback outcome is kept at least this long, for a late second delivery of the callback. */
const SETTLED_AT_LEAST_MS = 5 * 60_000;
/** How often a second delivery of a callback looks whether the first one's step ended. */
const SETTLE_POLL_MS = 100;

export interface BeginConnectionInput {
  readonly bank: string;
  /** The owning caller's `Caller.key` (`Connection.owner`): the namespace of its connection ids. */
  readonly owner: string;
  /** The mount prefix the request came under: the bank sends the PSU back to `<publicUrl><prefix>/callback/<bank>`. */
  readonly mountPrefix?: string;
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
  /** Throws 501 `operation_not_supported` for an operation the bank's protocol cannot serve yet (`unsupported`). */
  checkSupported(bank: string, api: string, route: UnattendedRoute): void;
  /** True when the bank's protocol can serve the operation (the surface document leaves the others out). */
  supports(bank: string, route: UnattendedRoute): boolean;
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
  /** The unattended-read counters; default the store's rolling windows (`hitWindow`, shared by replicas). */
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
  const windows: RollingWindows = options.windows ?? store;
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
  const contextOf = (bank: ResolvedBank, connection: Connection | undefined, requestId: string | undefined, mountPrefix = connection?.pending?.mountPrefix ?? ''): ConsentContext => {
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
      callbackUrl: `${options.publicUrl()}${mountPrefix}/callback/${bank.name}`,
      now,
      log,
    };
  };

  const payments = createPaymentEngine({ store, now, log: options.log, banks, contextOf: (bank, connection, requestId, mountPrefix) => contextOf(bank, connection, requestId, mountPrefix) });

  /**
   * Claims the pending step `state` of the connection stored under `id` (compare-and-set): undefined when another
   * delivery holds or finished it. `extra` is written with the claim (e.g. `polledAt`). Not robust's callback `claim`
   * (tokens/state-claim.ts): this one holds every step of a protocol (callback, PSU data, poll).
   */
  const claimStep = async (id: string, state: string, extra: Partial<PendingConsent> = {}): Promise<{ connection: Connection; claimId: string } | undefined> => {
    const claimId = randomToken(9);
    const at = now();
    const claimed = await updateConnection(store, id, (latest) => {
      const pending = latest.pending;
      if (!pending || pending.state !== state || (pending.stepClaim && pending.stepClaim.until > at)) return undefined;
      return { ...latest, pending: { ...pending, ...extra, stepClaim: { id: claimId, until: at + CLAIM_MS } } };
    });
    return claimed ? { connection: claimed, claimId } : undefined;
  };

  /** Frees a claim without changing the step (the PSU may try again). */
  const release = (id: string, claimId: string) =>
    updateConnection(store, id, (latest) => {
      if (latest.pending?.stepClaim?.id !== claimId) return undefined;
      const { stepClaim: _claim, ...pending } = latest.pending;
      return { ...latest, pending };
    });

  /**
   * The journal entry of an authorised step (issue 15): the connection as the completion writes it, landing only
   * where the connection still holds this step's claim. Undefined when the step is not one to keep (no tokens,
   * another PSU's consent refused by `subjectChange`).
   */
  const completionEntry = (id: string, claimId: string, tokens: Connection['tokens'], claimed: Connection, write: (latest: Connection) => Connection | undefined, refused: () => boolean): ConsentJournalEntry | undefined => {
    if (!tokens) return undefined;
    const connection = write(claimed);
    return connection && !refused() ? { storageId: id, tokens, journaledAt: now(), completes: { claimId, connection } } : undefined;
  };

  /**
   * Journals `entry` alongside its store write, as a refresh does (plugin/tokens/refresh.ts): the code is spent, so a
   * replica killed before the store write lands replays the completion when it starts again. True once on disk;
   * false without a journal or when the journal failed (the store write alone carries it then). Never rejects.
   */
  const journalAhead = async (context: ConsentContext, entry: ConsentJournalEntry): Promise<boolean> => {
    if (!store.journalAhead) return false;
    try {
      await store.journalAhead(entry);
      return true;
    } catch (error) {
      context.log.error('consent.journal_failed', { bank: context.bank.name, connectionId: entry.completes.connection.id, reason: (error as Error)?.name, detail: 'the authorised consent could not be journaled ahead of its store write' });
      return false;
    }
  };

  /**
   * A completed consent the store could not take, kept in the replica's journal (issue 15): written into the store
   * as soon as it answers, where the connection still holds this step's claim. Undefined (the store's error stands)
   * when there is no journal, the store failed otherwise, or there is no entry to keep.
   */
  const keepCompleted = async (context: ConsentContext, entry: ConsentJournalEntry | undefined, storeError: unknown): Promise<Connection | undefined> => {
    if (!(storeError instanceof BankgateError && storeError.code === 'store_unavailable') || !store.keepRefreshed || !entry) return undefined;
    const { connection } = entry.completes;
    try {
      await store.keepRefreshed(entry);
    } catch (journalError) {
      context.log.error('consent.persist_failed', { bank: context.bank.name, connectionId: connection.id, reason: (journalError as Error)?.name, detail: 'the authorised consent could not be stored nor journaled; the PSU must consent again' });
      return undefined;
    }
    context.log.warn('consent.journaled', { bank: context.bank.name, connectionId: connection.id, detail: 'the store is away: the authorised consent is journaled and written into the store as soon as it answers' });
    return connection;
  };

  /**
   * Writes a step's outcome onto the connection (stored under `id`) that still holds the claim. A step that ends the
   * consent leaves its outcome (`settledConsent`, with the state) for a second delivery of the same callback; `error`
   * is what a failed one answers (default: the step's reason, 400).
   */
  const apply = async (context: ConsentContext, protocol: ConsentProtocol, id: string, claimId: string, step: Step, error?: NonNullable<SettledConsent['error']>, claimed?: Connection): Promise<Connection> => {
    const at = now();
    let refusedSubject: Connection | undefined;
    const settle = (pending: PendingConsent, outcome: SettledConsent['outcome'], failure?: NonNullable<SettledConsent['error']>): SettledConsent => ({
      state: pending.state,
      outcome,
      ...(pending.returnTo !== undefined ? { returnTo: pending.returnTo } : {}),
      ...(failure ? { error: failure } : {}),
      expiresAt: Math.max(pending.expiresAt, at + SETTLED_AT_LEAST_MS),
    });
    const connectionId = id.slice(id.lastIndexOf('/') + 1);
    const write = (latest: Connection): Connection | undefined => {
      const pending = latest.pending;
      if (!pending || pending.stepClaim?.id !== claimId) return undefined;
      if (step.outcome === 'pending') {
        const { codeVerifier: _v, nonce: _n, redirectUri: _r, stepClaim: _c, ...kept } = pending;
        return {
          ...latest,
          updatedAt: at,
          ...(latest.status !== 'active' && step.consent ? { consent: step.consent } : {}),
          pending: { ...kept, session: step.session, nextAction: step.nextAction, ...(step.oauth ?? {}) },
        };
      }
      if (step.outcome === 'failed') {
        const failure = error ?? { code: 'consent_failed', status: 400, detail: `the consent failed at the bank (${step.reason.code}): start again with POST /connections` };
        const ended = { ...latest, pending: undefined, updatedAt: at, settledConsent: settle(pending, 'failed', failure) };
        // A failed re-consent leaves an active connection as it was; a first consent that failed says why.
        return latest.status === 'active' ? ended : { ...ended, status: 'failed', reason: step.reason, ...(step.consent ? { consent: step.consent } : {}) };
      }
      const subject = step.subject ?? latest.subject;
      const changed = latest.status !== 'pending' && latest.subject !== undefined && step.subject !== undefined && step.subject !== latest.subject;
      if (changed && context.bank.consent.subjectChange === 'refuse') {
        refusedSubject = { ...latest, consent: step.consent, tokens: step.tokens };
        return { ...latest, pending: undefined, updatedAt: at, settledConsent: settle(pending, 'failed', { code: 'psu_changed', status: 409, detail: subjectChangedDetail(connectionId, context.bank.name) }) };
      }
      return {
        ...latest,
        status: 'active',
        pending: undefined,
        settledConsent: settle(pending, 'active'),
        reason: undefined,
        updatedAt: at,
        consent: step.consent,
        tokens: step.tokens,
        scopes: step.scopes ?? latest.scopes,
        ...(subject !== undefined ? { subject } : {}),
        ...(changed ? { psu: { changedAt: at } } : {}),
      };
    };
    // The bank authorised (its code is spent): neither a store that is away nor a replica killed before the store
    // write may cost the PSU its consent. The completion is journaled alongside the write.
    const entry = step.outcome === 'authorised' && claimed ? completionEntry(id, claimId, step.tokens, claimed, write, () => refusedSubject !== undefined) : undefined;
    refusedSubject = undefined; // `write(claimed)` above decided nothing: the store write below decides
    const journaledAhead = entry ? journalAhead(context, entry) : Promise.resolve(false);
    let stored: Connection | undefined;
    try {
      stored = await updateConnection(store, id, write);
      void journaledAhead.then((journaled) => journaled && store.settleJournal?.(entry!));
    } catch (storeError) {
      await journaledAhead; // on disk before keepRefreshed looks for it (not written twice)
      const kept = await keepCompleted(context, entry, storeError);
      if (!kept) {
        // The store's own words promise that nothing is lost; here the bank's authorization is spent.
        if (step.outcome === 'authorised' && storeError instanceof BankgateError && storeError.code === 'store_unavailable') {
          throw new BankgateError('store_unavailable', { status: 503, bank: context.bank.name, detail: `the bank authorised the consent but the token store could not take it (and this replica keeps no journal, store.journal): start again with POST /connections once the store answers`, cause: storeError });
        }
        throw storeError;
      }
      stored = kept;
    }
    if (!stored) throw new BankgateError('consent_failed', { status: 409, bank: context.bank.name, detail: `connection ${connectionId} was deleted or its consent restarted meanwhile: start again with POST /connections` });
    if (refusedSubject) {
      // The new consent is another PSU's: end it at the bank, keep the connection's own.
      await protocol.revoke(context, refusedSubject).catch(() => 'failed');
      context.log.warn('consent.subject_changed', { bank: context.bank.name, connectionId });
      throw new BankgateError('consent_failed', { status: 409, bank: context.bank.name, detail: subjectChangedDetail(connectionId, context.bank.name), extra: { reason: 'psu_changed' } });
    }
    if (step.outcome === 'authorised') context.log.info('consent.completed', { bank: context.bank.name, connectionId, protocol: protocol.name });
    if (step.outcome === 'failed') context.log.warn('consent.failed', { bank: context.bank.name, connectionId, code: step.reason.code });
    return stored;
  };

  /**
   * Runs one continue-step on a claimed pending consent; errors end it, except the ones the PSU can fix. Undefined
   * when another delivery holds (or held) the step and `input` is a callback: the caller waits for its outcome.
   */
  const step = async (connection: Connection, state: string, input: ContinueInput, requestId: string | undefined, extra: Partial<PendingConsent> = {}): Promise<Connection | undefined> => {
    const bank = bankOf(connection.bank);
    const protocol = protocolOf(bank);
    const id = storageIdOf(connection);
    const claimed = await claimStep(id, state, extra);
    if (!claimed) {
      if (input.kind === 'poll') return (await store.get(id)) ?? connection;
      if (input.kind === 'callback') return undefined;
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
        await release(id, claimed.claimId);
        throw failure;
      }
      // One code for a failed step; the status says whose the failure was (a bank that did not answer in time: 504).
      const answer = failure.code === 'consent_failed' ? failure : new BankgateError('consent_failed', { status: failure.code === 'bank_timeout' ? 504 : 502, bank: bank.name, detail: failure.message, cause: failure, extra: failure.extra });
      // A second delivery of the same callback gets this answer again, from the store (never by the bank).
      const settled = { code: 'consent_failed', status: answer.status, detail: answer.message };
      await apply(context, protocol, id, claimed.claimId, { outcome: 'failed', reason: { code: failure.code, detail: failure.message.slice(0, 500) } }, settled).catch(() => undefined);
      throw answer;
    }
    return apply(context, protocol, id, claimed.claimId, result, undefined, claimed.connection);
  };

  /** A step the PSU drives (PSU data): a step already held by another request is a 409. */
  const psuStep = async (connection: Connection, state: string, input: ContinueInput, requestId: string | undefined): Promise<Connection> =>
    (await step(connection, state, input, requestId)) ?? ((await store.get(storageIdOf(connection))) ?? connection);

  /** Reads an active consent's status at the bank (once `statusCheckSeconds` passed, or now when `force`). */
  const checkStatus = async (connection: Connection, requestId: string | undefined, force: boolean): Promise<Connection> => {
    if (connection.status !== 'active' || !connection.consent?.id) return connection;
    const bank = bankOf(connection.bank);
    const at = now();
    const every = 'statusCheckSeconds' in bank.consent ? bank.consent.statusCheckSeconds * 1000 : Number.POSITIVE_INFINITY;
    if (!force && at - (connection.consent.checkedAt ?? 0) < every) return connection;
    const status = await protocolOf(bank).status(contextOf(bank, connection, requestId), connection);
    const updated = await updateConnection(store, storageIdOf(connection), (latest) => {
      if (latest.status !== 'active' || latest.consent?.id !== connection.consent?.id) return undefined;
      const consent = status.consent ?? { ...latest.consent!, checkedAt: at };
      if (status.state === 'ended') return { ...latest, status: 'reconsent_required', reason: status.reason, consent, updatedAt: at };
      return { ...latest, consent };
    });
    if (updated?.status === 'reconsent_required') options.log.warn('consent.ended', { bank: bank.name, connectionId: connection.id, reason: updated.reason?.code });
    return updated ?? (await store.get(storageIdOf(connection))) ?? connection;
  };

  return {
    async begin(input, requestId) {
      const bank = bankOf(input.bank);
      const protocol = protocolOf(bank);
      if (input.returnTo !== undefined) checkReturnTo(input.returnTo, options.returnToOrigins ?? [], options.publicUrl());
      const unheard = termsAsked(input.request).filter((term) => !protocol.terms.includes(term)).map((term) => TERM_NAMES[term]);
      if (unheard.length > 0) {
        const takes = protocol.terms.length > 0 ? `it takes ${protocol.terms.map((term) => TERM_NAMES[term]).join(', ')}` : 'it takes none of them';
        throw new BankgateError('bad_request', { status: 400, bank: bank.name, detail: `bank ${bank.name} (consent protocol ${protocol.name}) cannot carry ${unheard.join(', ')} to the bank, so its consent would not be what was asked: leave ${unheard.length > 1 ? 'them' : 'it'} out (${takes})` });
      }
      if (input.request.consentId !== undefined && !protocol.authorisesExisting) {
        throw new BankgateError('bad_request', { status: 400, bank: bank.name, detail: `consentId names a consent created at the bank beforehand; bank ${bank.name} (consent protocol ${protocol.name}) creates its consents itself: leave consentId out` });
      }
      const mountPrefix = input.mountPrefix ?? '';
      // Connection ids are per caller: what is found here is the caller's own, never another caller's.
      let existing = input.connectionId ? await store.get(connectionStorageId(input.owner, input.connectionId)) : undefined;
      if (existing) assertSameBank(existing, bank.name);
      const state = randomToken(24);
      const context = contextOf(bank, existing, requestId, mountPrefix);
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
        ...(mountPrefix ? { mountPrefix } : {}),
        ...(input.returnTo !== undefined ? { returnTo: input.returnTo } : {}),
        session: begun.outcome === 'pending' ? begun.session : {},
        ...(begun.outcome === 'pending' ? { nextAction: begun.nextAction, ...(begun.oauth ?? {}) } : {}),
        ...(begun.outcome !== 'pending' ? { stepClaim: { id: claimId, until: at + CLAIM_MS } } : {}),
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
      // A new connection is created only if absent (atomic in every store): a concurrent creation of the same id by
      // this caller makes this a re-consent of that connection, never an overwrite of it.
      let stored = existing ? undefined : await store.create(fresh);
      if (!stored) {
        existing ??= await store.get(storageIdOf(fresh));
        if (existing) assertSameBank(existing, bank.name);
        // An existing connection keeps whatever a concurrent refresh stored; only the pending consent is added.
        stored = await updateConnection(store, storageIdOf(fresh), (latest) =>
          latest.bank !== bank.name
            ? undefined
            : {
                ...latest,
                status: latest.status === 'active' ? 'active' : 'pending',
                reason: latest.status === 'active' ? latest.reason : undefined,
                scopes: latest.status === 'active' ? latest.scopes : scopes,
                updatedAt: at,
                pending,
                ...(latest.status !== 'active' && begun.outcome === 'pending' && begun.consent ? { consent: begun.consent } : {}),
              },
        );
      }
      if (!stored) throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${id} was deleted meanwhile; start again` });
      context.log.info('consent.started', { bank: bank.name, connectionId: id, protocol: protocol.name, ...(begun.outcome === 'pending' ? { nextAction: begun.nextAction.type } : {}) });
      if (begun.outcome === 'pending') return { connection: stored, nextAction: begun.nextAction };
      const connection = await apply(context, protocol, storageIdOf(stored), claimId, begun);
      return { connection };
    },

    async complete(bankName, url, requestId) {
      bankOf(bankName);
      const state = url.searchParams.get('state');
      const unknown = () => new BankgateError('consent_failed', { status: 400, bank: bankName, detail: 'unknown or already used state: start again with POST /connections' });
      // A second delivery of the same callback (a double submit, a proxy's retry) waits while the first runs the
      // step, then gets the first one's outcome from the store: the bank sees the code once (issue 15, finding 3).
      const waitUntil = now() + CLAIM_MS + 5_000;
      for (;;) {
        const connection = state ? await store.findByState(state) : undefined;
        if (!connection || connection.bank !== bankName || !state) throw unknown();
        const pending = connection.pending?.state === state ? connection.pending : undefined;
        if (!pending) {
          const settled = connection.settledConsent;
          if (settled?.state === state) return answerFromSettled(bankName, { kind: 'settled', connection, settled });
          throw unknown();
        }
        const at = now();
        if (pending.expiresAt < at) {
          const detail = 'the consent took too long and expired: start again with POST /connections';
          await updateConnection(store, storageIdOf(connection), (latest) =>
            latest.pending?.state === state
              ? {
                  ...latest,
                  pending: undefined,
                  updatedAt: at,
                  ...(latest.status === 'active' ? {} : { status: 'failed' as const }),
                  reason: { code: 'consent_expired', detail: 'the PSU did not finish in time' },
                  settledConsent: { state, outcome: 'failed', error: { code: 'consent_failed', status: 400, detail }, expiresAt: at + SETTLED_AT_LEAST_MS, ...(pending.returnTo !== undefined ? { returnTo: pending.returnTo } : {}) },
                }
              : undefined,
          );
          throw new BankgateError('consent_failed', { status: 400, bank: bankName, detail });
        }
        if (connection.kind === 'payment') return { connection: await payments.complete(connection, url, requestId) };
        if (pending.stepClaim && pending.stepClaim.until > at && at < waitUntil) {
          await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
          continue;
        }
        const done = await step(connection, state, { kind: 'callback', url }, requestId);
        if (!done) continue; // another delivery claimed it first: wait for its outcome
        if (done.settledConsent?.state === state) return answerFromSettled(bankName, { kind: 'settled', connection: done, settled: done.settledConsent });
        return { connection: done, ...(pending.returnTo ? { returnTo: pending.returnTo } : {}) };
      }
    },

    async psuData(connection, data, requestId) {
      const pending = connection.pending;
      if (!pending || pending.nextAction?.type !== 'embedded') {
        throw new BankgateError('bad_request', { status: 409, bank: connection.bank, detail: `connection ${connection.id} is not waiting for PSU data${pending?.nextAction ? ` (its next action is ${pending.nextAction.type})` : ''}` });
      }
      if (pending.expiresAt < now()) throw new BankgateError('consent_failed', { status: 400, bank: connection.bank, detail: 'the consent took too long and expired: start again with POST /connections' });
      return psuStep(connection, pending.state, { kind: 'psu-data', data }, requestId);
    },

    async refresh(connection, requestId) {
      const pending = connection.pending;
      const at = now();
      if (pending?.nextAction?.type === 'decoupled' && pending.expiresAt >= at) {
        if (at - (pending.polledAt ?? 0) < pending.nextAction.pollAfterMs) return connection;
        return (await step(connection, pending.state, { kind: 'poll' }, requestId, { polledAt: at })) ?? connection;
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

    supports(bankName, route) {
      return protocolOf(bankOf(bankName)).unsupported?.(route) === undefined;
    },

    checkSupported(bankName, api, route) {
      const protocol = protocolOf(bankOf(bankName));
      const why = protocol.unsupported?.(route);
      if (why !== undefined) {
        throw new BankgateError('operation_not_supported', { status: 501, bank: bankName, detail: `${bankName}/${api}/${route.operationId} is not supported yet: ${why}`, extra: { operationId: route.operationId } });
      }
    },

    async spendUnattended(connection, route, params, psuPresent) {
      if (psuPresent || connection.status !== 'active') return;
      const frequency = frequencyOf(connection);
      if (frequency === undefined || !protocolOf(bankOf(connection.bank)).countsAsUnattendedRead(route)) return;
      const read = unattendedReadOf(route.operationId, params);
      await spendUnattended(windows, connection, frequency, read, now());
      const entry = `${read.endpoint} ${read.account}`;
      if (!(connection.unattended?.reads ?? []).includes(entry)) {
        await updateConnection(store, storageIdOf(connection), (latest) => {
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

/** Why a re-consent by another PSU was refused (`consent.subjectChange: 'refuse'`). */
function subjectChangedDetail(connectionId: string, bank: string): string {
  return `connection ${connectionId} belongs to another PSU than the one who just consented; the new consent was ended at the bank and the connection kept (banks.${bank}.consent.subjectChange: 'flag' accepts it)`;
}

/** A connection id names one connection of a caller, at one bank (and never one of its payments). */
function assertSameBank(existing: Connection, bank: string): void {
  if (existing.kind === 'payment') {
    throw new BankgateError('connection_bank_mismatch', { status: 409, bank, detail: `${existing.id} names one of your payments: choose another connectionId` });
  }
  if (existing.bank !== bank) {
    throw new BankgateError('connection_bank_mismatch', { status: 409, bank, detail: `your connection ${existing.id} is with bank ${existing.bank}, not ${bank}: choose another connectionId, or DELETE it first` });
  }
}
