import { BankgateError } from '../errors/bankgate-error.js';
import type { Connection, PendingConsent, SettledConsent } from '../store/connection.js';
import { storageIdOf } from '../store/connection.js';
import type { TokenContext } from './context.js';
import { updateConnection } from './update-connection.js';

/**
 * What one delivery of a consent callback may do with its `state` (finding 3 of issue 15):
 * - `claimed`: this delivery, and no other, exchanges the code (the claim is stored by compare-and-set);
 * - `settled`: the consent already ended: answer from its stored outcome, without contacting the bank;
 * - `unknown`: no consent waits for this state at this bank.
 */
export type StateClaim =
  | { readonly kind: 'claimed'; readonly connection: Connection; readonly pending: PendingConsent; readonly claimant: string }
  | { readonly kind: 'settled'; readonly connection: Connection; readonly settled: SettledConsent }
  | { readonly kind: 'unknown' };

/** How long a claim holds: longer than a code exchange may take (see `CODE_EXCHANGE_TIMEOUT_MS`). */
export const CLAIM_TTL_MS = 45_000;
/** The code exchange gives up before the claim could be thought abandoned. */
export const CODE_EXCHANGE_TIMEOUT_MS = 30_000;
/** A settled outcome is kept at least this long, for a late second delivery. */
const SETTLED_AT_LEAST_MS = 5 * 60_000;
const POLL_MS = 100;

/**
 * Claims the pending consent carrying `state` for this delivery, atomically (a compare-and-set that marks
 * it claimed). A second delivery while the first exchanges the code waits for its outcome (up to the
 * claim's TTL) and gets that outcome; a delivery after the consent ended gets the stored outcome. A claim
 * whose holder vanished (the replica died mid-exchange) is settled as failed: whether the code was used
 * cannot be known, and using it twice makes the bank revoke the grant (RFC 6749 §4.1.2).
 * Expired consents are settled as failed here too.
 */
export async function claimConsentState(context: TokenContext, bank: string, state: string): Promise<StateClaim> {
  const claimant = `${context.replicaId}:${crypto.randomUUID()}`;
  const waitUntil = context.now() + CLAIM_TTL_MS + 5_000;
  for (;;) {
    const connection = await context.store.findByState(state);
    if (!connection || connection.bank !== bank) return { kind: 'unknown' };
    const pending = connection.pending?.state === state ? connection.pending : undefined;
    if (!pending) {
      const settled = connection.settledConsent;
      return settled?.state === state ? { kind: 'settled', connection, settled } : { kind: 'unknown' };
    }
    const now = context.now();
    if (pending.expiresAt < now) {
      const settled = await settleConsent(context, connection, state, undefined, {
        outcome: 'failed',
        error: { code: 'consent_failed', status: 400, detail: 'the consent took too long and expired: start again with POST /connections' },
        reason: { code: 'consent_expired', detail: 'the PSU did not finish in time' },
      });
      if (settled) return settled;
      continue;
    }
    if (pending.claim) {
      if (pending.claim.at + CLAIM_TTL_MS > now && now < waitUntil) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        continue;
      }
      const settled = await settleConsent(context, connection, state, pending.claim.by, {
        outcome: 'failed',
        error: { code: 'consent_failed', status: 502, detail: 'the consent was interrupted while the gateway exchanged its code: start again with POST /connections' },
        reason: { code: 'consent_interrupted', detail: 'the gateway was interrupted while it exchanged the authorization code' },
      });
      if (settled) return settled;
      continue;
    }
    const claimed = await context.store.compareAndSet({ ...connection, pending: { ...pending, claim: { by: claimant, at: now } } }, connection.revision!);
    if (claimed) return { kind: 'claimed', connection: claimed, pending: claimed.pending!, claimant };
  }
}

/** What a consent ended with: an active connection (its new fields), or a failure. */
export type ConsentEnd =
  | { readonly outcome: 'active'; readonly fields: Partial<Connection> }
  | { readonly outcome: 'failed'; readonly error: NonNullable<SettledConsent['error']>; readonly reason: { readonly code: string; readonly detail: string }; readonly fields?: Partial<Connection> };

/**
 * Records how the consent of `state` ended, onto the connection that still waits for it (and, when
 * `claimant` is given, still holds that claim): the pending consent goes, its outcome stays (with the
 * state) for any later delivery. Returns the settled claim, or undefined when the consent was restarted
 * or the connection deleted meanwhile (nothing is written then).
 */
export async function settleConsent(context: TokenContext, connection: Connection, state: string, claimant: string | undefined, end: ConsentEnd): Promise<Extract<StateClaim, { kind: 'settled' }> | undefined> {
  const stored = await updateConnection(context.store, storageIdOf(connection), (latest) => {
    const pending = latest.pending;
    if (pending?.state !== state || (claimant !== undefined && pending.claim?.by !== claimant)) return undefined;
    const now = context.now();
    const settledConsent: SettledConsent = {
      state,
      outcome: end.outcome,
      ...(pending.returnTo !== undefined ? { returnTo: pending.returnTo } : {}),
      ...(end.outcome === 'failed' ? { error: end.error } : {}),
      expiresAt: Math.max(pending.expiresAt, now + SETTLED_AT_LEAST_MS),
    };
    const changes = end.outcome === 'active' ? end.fields : { ...end.fields, reason: end.reason };
    return { ...latest, ...changes, pending: undefined, settledConsent, updatedAt: now };
  });
  return stored?.settledConsent ? { kind: 'settled', connection: stored, settled: stored.settledConsent } : undefined;
}

/** The answer a settled consent gives a delivery: the connection, or the stored failure thrown again. */
export function answerFromSettled(bank: string, claim: Extract<StateClaim, { kind: 'settled' }>): { connection: Connection; returnTo?: string } {
  const { settled, connection } = claim;
  if (settled.outcome === 'failed') {
    const error = settled.error ?? { code: 'consent_failed', status: 400, detail: 'the consent failed: start again with POST /connections' };
    throw new BankgateError('consent_failed', { status: error.status, bank, detail: error.detail, extra: error.code === 'consent_failed' ? undefined : { reason: error.code } });
  }
  return { connection, ...(settled.returnTo !== undefined ? { returnTo: settled.returnTo } : {}) };
}
