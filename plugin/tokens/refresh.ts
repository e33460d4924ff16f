import * as oauth from 'oauth4webapi';
import { withDpopNonceRetry } from '../oauth/authorization-request.js';
import { BankgateError } from '../errors/bankgate-error.js';
import { storageIdOf, type Connection, type TokenSet } from '../store/connection.js';
import type { JournalEntry } from '../store/token-journal.js';
import { bankOAuth, forRequest, type TokenContext } from './context.js';
import { toOAuthError } from './oauth-error.js';
import { acquireRefreshLock, awaitHandover, keepLease, REFRESH_ATTEMPT_TIMEOUT_MS, refreshLockName, releaseRefreshLock } from './refresh-lock.js';
import { BankServerError, classifyAttemptFailure, isSilentClose, type AttemptFailure } from './refresh-outcome.js';
import { TOKEN_METRICS, type RefreshOutcome } from './token-metrics.js';
import { freshnessOf, toTokenSet } from './token-set.js';
import { updateConnection } from './update-connection.js';
import { usableTokens } from './usable-tokens.js';

export interface RefreshReason {
  /** The bank answered 401 to this access token: refresh even though it looks fresh, unless already replaced. */
  readonly rejectedAccessToken?: string;
  /** The inbound request that needed the refresh: the refresh's log lines carry it (a joined refresh keeps the first). */
  readonly requestId?: string | undefined;
}

/** True when the stored connection's token must be replaced (throws when it cannot be used at all). */
export function needsRefresh(context: TokenContext, connection: Connection, reason: RefreshReason = {}): boolean {
  const tokens = usableTokens(connection);
  if (reason.rejectedAccessToken !== undefined && tokens.accessToken === reason.rejectedAccessToken) return true;
  const bankSide = bankOAuth(context, connection.bank);
  return freshnessOf(tokens, context.now(), bankSide.bank.refreshSkewSeconds, bankSide.certificateThumbprint()) !== 'fresh';
}

/**
 * Refreshes a PSU connection's token set once across every replica sharing the store (DESIGN §5):
 * re-read, take the connection's refresh lock (or wait for the holder's result), re-read under the lock,
 * refresh at the bank, store the new set (compare-and-set) and only then release the lock.
 * An unknown outcome (timeout, lost response, 5xx) is retried once with the stored refresh token; if that
 * does not succeed either, or the bank says `invalid_grant`, the connection is marked `reconsent_required`
 * (kept, with its reason), never deleted. In-process single-flight sits in front of this (token-engine.ts).
 */
export async function refreshConnection(base: TokenContext, storageId: string, reason: RefreshReason = {}): Promise<Connection> {
  const context = forRequest(base, reason.requestId);
  const current = await readConnection(context, storageId);
  if (!needsRefresh(context, current, reason)) return current;
  const lock = await acquireRefreshLock(context, current, (latest) => needsRefresh(context, latest, reason));
  if (!lock.held) {
    count(context, current.bank, 'shared');
    return lock.connection;
  }
  const lease = keepLease(context, current, lock.owner);
  try {
    let latest = await readConnection(context, storageId);
    // Taken over a holder that never released (dead, or cut off from the store): its answer may be on its way.
    if (lock.inDoubt !== undefined && needsRefresh(context, latest, reason)) latest = await awaitHandover(context, latest, lock.inDoubt);
    if (!needsRefresh(context, latest, reason)) {
      count(context, current.bank, 'shared');
      return latest;
    }
    return await refreshHoldingLock(context, latest, lock.owner);
  } finally {
    lease.stop();
    await releaseRefreshLock(context, current, lock.owner);
  }
}

async function readConnection(context: TokenContext, storageId: string): Promise<Connection> {
  const connection = await context.store.get(storageId);
  if (!connection) throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${storageId.slice(storageId.lastIndexOf('/') + 1)} does not exist` });
  return connection;
}

/**
 * `lockOwner`: this refresh's hold on the connection's refresh lock (a journaled result releases it once stored).
 * `again`: false when this refresh already continues one whose grant a newer consent replaced (no loop).
 */
async function refreshHoldingLock(context: TokenContext, connection: Connection, lockOwner: string, again = true): Promise<Connection> {
  const tokens = usableTokens(connection);
  if (!tokens.refreshToken) return markReconsent(context, connection, lockOwner, undefined, again, 'the bank issued no refresh token and the access token expired');

  const first = await attempt(context, connection, tokens.refreshToken);
  if (first.ok) return persist(context, connection, lockOwner, tokens.refreshToken, first.tokens, 'refreshed');
  if (first.failure === 'invalid_grant') return markReconsent(context, connection, lockOwner, tokens.refreshToken, again, 'the bank rejected the refresh token (invalid_grant)');
  if (first.failure === 'failed') return refreshFailed(context, connection, first.error);

  // Unknown outcome: the bank may have rotated the refresh token and lost the answer. Re-read (a refresh
  // stored meanwhile wins), then try once more with the stored refresh token.
  unknownOutcome(context, connection, first.error, 1);
  const reread = await readConnection(context, storageIdOf(connection));
  if (reread.revision !== connection.revision && !needsRefresh(context, reread)) {
    count(context, connection.bank, 'shared');
    return reread;
  }
  const retryToken = reread.tokens?.refreshToken ?? tokens.refreshToken;
  const second = await attempt(context, reread, retryToken);
  if (second.ok) return persist(context, reread, lockOwner, retryToken, second.tokens, 'refreshed_after_retry');
  // Silent closes twice in a row: the TLS setup, not the token (a client certificate the bank refuses must
  // not put every connection into reconsent_required). The connection is kept as it is.
  if (isSilentClose(first.error) && isSilentClose(second.error)) return refreshFailed(context, connection, second.error);
  if (second.failure === 'unknown') unknownOutcome(context, connection, second.error, 2);
  return markReconsent(
    context,
    reread,
    lockOwner,
    retryToken,
    again,
    second.failure === 'invalid_grant'
      ? 'a refresh got no answer and the retry was refused (invalid_grant): the bank had most likely rotated the refresh token'
      : `two refresh attempts got no usable answer (${describe(first.error)}, then ${describe(second.error)}); the refresh token may have been rotated`,
  );
}

/** The refresh failed without saying anything about the refresh token: 502, the connection left as it is. */
function refreshFailed(context: TokenContext, connection: Connection, error: unknown): never {
  count(context, connection.bank, 'failed');
  const failure = toOAuthError(connection.bank, 'token refresh', error);
  context.log.warn('token.refresh_failed', { bank: connection.bank, connectionId: connection.id, code: failure.code, detail: failure.message });
  throw new BankgateError('token_refresh_failed', { status: 502, bank: connection.bank, detail: failure.message, cause: failure, extra: { connectionId: connection.id } });
}

type Attempt = { ok: true; tokens: TokenSet } | { ok: false; failure: AttemptFailure; error: unknown };

async function attempt(context: TokenContext, connection: Connection, refreshToken: string): Promise<Attempt> {
  const bankSide = bankOAuth(context, connection.bank);
  // Discovery failing means nothing was sent: a definite failure, thrown as it is.
  const as = await bankSide.metadata();
  const thumbprint = bankSide.certificateThumbprint();
  try {
    // The lease is renewed while this runs (keepLease): the attempt may take longer than the lock TTL.
    const signal = AbortSignal.timeout(REFRESH_ATTEMPT_TIMEOUT_MS);
    // A DPoP bank that wants a fresh nonce refuses with use_dpop_nonce before looking at the refresh token: sent once more.
    const result = await withDpopNonceRetry(bankSide, async () => {
      const response = await oauth.refreshTokenGrantRequest(as, bankSide.client, bankSide.clientAuth, refreshToken, { ...bankSide.requestOptions, signal });
      if (response.status >= 500) {
        await response.body?.cancel().catch(() => {});
        throw new BankServerError(response.status);
      }
      return oauth.processRefreshTokenResponse(as, bankSide.client, response);
    });
    return { ok: true, tokens: toTokenSet(result, context.now(), refreshToken, thumbprint) };
  } catch (error) {
    return { ok: false, failure: classifyAttemptFailure(error), error };
  }
}

/**
 * Stores the new token set before the lock is released. With a rotating bank, losing this write loses the
 * consent. When the replica has a journal, the set is journaled durably as soon as it is parsed
 * (`store.journalAhead`), at the same time as the store write: the set is safe as soon as either lands, so a
 * replica killed before the store write replays it when it starts again, and the fsync does not delay the
 * store write (a journal that must finish first would widen the window in which a kill loses the set). Once
 * stored, the entry is forgotten; when the store cannot take it, the journaled set counts as done (the
 * journal writes it into the store as soon as it answers, then releases the lock); without a journal, a
 * store hiccup is retried for a moment. The write merges onto the latest stored connection and is skipped
 * when the connection was deleted meanwhile (revoked: never written back).
 */
async function persist(context: TokenContext, connection: Connection, lockOwner: string, usedRefreshToken: string, tokens: TokenSet, outcome: RefreshOutcome): Promise<Connection> {
  const started = context.now();
  const entry: JournalEntry = { storageId: storageIdOf(connection), usedRefreshToken, tokens, journaledAt: context.now(), lock: { name: refreshLockName(connection), owner: lockOwner } };
  const journaledAhead = journalAhead(context, connection, entry);
  for (let tries = 1; ; tries++) {
    try {
      const stored = await updateConnection(context.store, storageIdOf(connection), (latest) =>
        // A newer consent replaced the grant meanwhile: its tokens win over a refresh of the old one.
        latest.tokens?.refreshToken !== usedRefreshToken && latest.tokens?.refreshToken !== connection.tokens?.refreshToken
          ? undefined
          : { ...latest, tokens, updatedAt: context.now() },
      );
      // Off the refresh's path, but a graceful stop waits for it (the entry's removal) before closing the store.
      const settled = journaledAhead.then((journaled) => journaled && context.store.settleJournal?.(entry));
      if (context.work) void context.work.track(settled);
      if (!stored) {
        const latest = await context.store.get(storageIdOf(connection));
        if (!latest) {
          context.log.warn('token.refresh_discarded', { bank: connection.bank, connectionId: connection.id, detail: 'the connection was deleted during its refresh' });
          throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${connection.id} does not exist` });
        }
        return latest;
      }
      count(context, connection.bank, outcome);
      context.log.info('token.refreshed', { bank: connection.bank, connectionId: connection.id, outcome, ms: context.now() - started });
      return stored;
    } catch (error) {
      const storeAway = error instanceof BankgateError && error.code === 'store_unavailable';
      // Journaled ahead: an unexpected failure of the write (not a refusal of ours, e.g. the connection deleted)
      // leaves the set to the journal's replay (compare-and-set on the used token).
      const journaled = await journaledAhead; // its write done before keepRefreshed looks for it (not written twice)
      if ((storeAway || (journaled && !(error instanceof BankgateError))) && context.store.keepRefreshed) return journal(context, connection, entry, outcome, error);
      if (!storeAway || tries >= 4) {
        if (error instanceof BankgateError && error.code === 'store_unavailable') {
          context.log.error('token.persist_failed', { bank: connection.bank, connectionId: connection.id, detail: 'the refreshed token set could not be stored; the PSU may have to consent again' });
        }
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 250 * tries));
    }
  }
}

/**
 * Journals the set alongside its store write; false when the replica has no journal or the journal failed
 * (then the store write alone carries it, as without a journal). Never rejects.
 */
async function journalAhead(context: TokenContext, connection: Connection, entry: JournalEntry): Promise<boolean> {
  if (!context.store.journalAhead) return false;
  try {
    await context.store.journalAhead(entry);
    return true;
  } catch (error) {
    context.log.error('token.journal_failed', { bank: connection.bank, connectionId: connection.id, reason: describe(error), detail: 'the refreshed token set could not be journaled ahead of its store write' });
    return false;
  }
}

/** Journals a refreshed set the store could not take; the connection as it will be stored is used meanwhile. */
async function journal(context: TokenContext, connection: Connection, entry: JournalEntry, outcome: RefreshOutcome, storeError: unknown): Promise<Connection> {
  const { tokens } = entry;
  try {
    await context.store.keepRefreshed!(entry);
  } catch (journalError) {
    context.log.error('token.persist_failed', { bank: connection.bank, connectionId: connection.id, reason: describe(journalError), detail: 'the refreshed token set could not be stored nor journaled; the PSU may have to consent again' });
    throw storeError;
  }
  count(context, connection.bank, outcome);
  context.log.warn('token.journaled', { bank: connection.bank, connectionId: connection.id, outcome, detail: 'the store is unavailable: the refreshed token set is kept in the local journal until the store takes it' });
  return { ...connection, status: 'active', tokens, updatedAt: context.now() };
}

/**
 * Marks the connection `reconsent_required`, only while the grant the bank refused (`refusedRefreshToken`,
 * or, without one, the expired access token) is still the stored one (finding 2 of issue 15): when a
 * re-consent or another replica's refresh stored a newer token set meanwhile, that set is kept and used
 * (refreshed once more under this lock when it needs it) and nothing is marked.
 */
async function markReconsent(context: TokenContext, connection: Connection, lockOwner: string, refusedRefreshToken: string | undefined, again: boolean, detail: string): Promise<Connection> {
  let replaced: Connection | undefined;
  const marked = await updateConnection(context.store, storageIdOf(connection), (latest) => {
    const sameGrant = latest.tokens?.refreshToken === refusedRefreshToken && (refusedRefreshToken !== undefined || latest.tokens?.accessToken === connection.tokens?.accessToken);
    if (!sameGrant) {
      replaced = latest;
      return undefined;
    }
    return { ...latest, status: 'reconsent_required', updatedAt: context.now(), reason: { code: 'reconsent_required', detail } };
  });
  if (replaced) {
    context.log.info('token.refresh_superseded', { bank: connection.bank, connectionId: connection.id, detail: 'the refused grant was replaced meanwhile (a new consent or refresh); the stored token set is kept' });
    if (again && replaced.status === 'active' && replaced.tokens && needsRefresh(context, replaced)) return refreshHoldingLock(context, replaced, lockOwner, false);
    count(context, connection.bank, 'shared');
    return replaced;
  }
  if (!marked) throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${connection.id} does not exist` });
  count(context, connection.bank, 'reconsent_required');
  context.log.warn('connection.reconsent_required', { bank: connection.bank, connectionId: connection.id, detail });
  return usableTokens(marked) as never;
}

function unknownOutcome(context: TokenContext, connection: Connection, error: unknown, attemptNumber: number): void {
  context.metrics.inc(TOKEN_METRICS.unknownOutcomes, { bank: connection.bank });
  context.log.warn('token.refresh_outcome_unknown', { bank: connection.bank, connectionId: connection.id, attempt: attemptNumber, reason: describe(error) });
}

function count(context: TokenContext, bank: string, outcome: RefreshOutcome): void {
  context.metrics.inc(TOKEN_METRICS.refreshes, { bank, outcome });
}

/** An error's class and code for logs and reasons: never its message, which could echo a response body. */
function describe(error: unknown): string {
  if (error instanceof BankServerError) return `HTTP ${error.status}`;
  if (error instanceof BankgateError) return `${error.code}${error.extra?.reason ? ` ${String(error.extra.reason)}` : ''}`;
  if (error instanceof oauth.ResponseBodyError) return `HTTP ${error.status} ${error.error}`;
  const code = (error as { code?: unknown })?.code;
  return [(error as Error)?.name ?? typeof error, typeof code === 'string' ? code : undefined].filter(Boolean).join(' ');
}
