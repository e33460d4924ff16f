/**
 * The bank's clock: wall time plus an offset the control plane can advance (`POST /__sandbox/bg/clock`), so that
 * tests reach a consent's `validUntil`, the end of a rolling 24 h window or a decoupled approval without waiting.
 * Every time rule of the bank reads this clock; the authorization server's token lifetimes do not (they are
 * oidc-provider's own and stay real).
 */
export class BankClock {
  #offsetMs = 0;

  /** Milliseconds since the epoch, bank time. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** The bank's local date (`YYYY-MM-DD`; the sandbox bank keeps UTC). */
  today(): string {
    return isoDate(this.now());
  }

  /** Moves the bank's time forward; never backward (rolling windows and approvals only move on). */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error('advanceSeconds must be a number ≥ 0');
    this.#offsetMs += seconds * 1000;
  }

  get offsetSeconds(): number {
    return this.#offsetMs / 1000;
  }
}

export function isoDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD` plus `days`. */
export function addDays(date: string, days: number): string {
  return isoDate(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000);
}
