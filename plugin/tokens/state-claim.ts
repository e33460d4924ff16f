import { BankgateError } from '../errors/bankgate-error.js';
import type { Connection, PendingConsent, SettledConsent } from '../store/connection.js';

/**
 * What one delivery of a consent callback may do with its `state` (finding 3 of issue 15):
 * - `claimed`: this delivery, and no other, runs the step (the claim is stored by compare-and-set: the consent
 *   engine's `PendingConsent.stepClaim`, consent/engine.ts);
 * - `settled`: the consent already ended: answer from its stored outcome (`settledConsent`), without contacting the bank;
 * - `unknown`: no consent waits for this state at this bank.
 */
export type StateClaim =
  | { readonly kind: 'claimed'; readonly connection: Connection; readonly pending: PendingConsent; readonly claimant: string }
  | { readonly kind: 'settled'; readonly connection: Connection; readonly settled: SettledConsent }
  | { readonly kind: 'unknown' };

/** The answer a settled consent gives a delivery: the connection, or the stored failure thrown again. */
export function answerFromSettled(bank: string, claim: Extract<StateClaim, { kind: 'settled' }>): { connection: Connection; returnTo?: string } {
  const { settled, connection } = claim;
  if (settled.outcome === 'failed') {
    const error = settled.error ?? { code: 'consent_failed', status: 400, detail: 'the consent failed: start again with POST /connections' };
    throw new BankgateError('consent_failed', { status: error.status, bank, detail: error.detail, extra: error.code === 'consent_failed' ? undefined : { reason: error.code } });
  }
  return { connection, ...(settled.returnTo !== undefined ? { returnTo: settled.returnTo } : {}) };
}
