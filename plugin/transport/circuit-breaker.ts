/**
 * A circuit breaker per bank: stop sending calls to a bank that keeps failing, so callers get a fast, clear
 * `bank_circuit_open` instead of waiting for timeouts, and the bank gets room to recover.
 *
 *   closed ──(N consecutive failures, or failure rate ≥ r over the last W calls)──▶ open
 *   open ──(the cool-down elapsed; the next call is let through as the probe)──▶ half-open
 *   half-open ──(probe succeeds)──▶ closed        half-open ──(probe fails)──▶ open (a cool-down twice as long)
 *
 * The first cool-down is short (`coolDownMs`): most bank failures are bursts, and a long first cool-down turns a
 * two-second hiccup into half a minute of refused calls. Each failed probe doubles it, up to `maxCoolDownMs`, so a
 * bank that is really down is probed rarely; a probe that succeeds starts over.
 *
 * While half-open, only the probe goes to the bank; other calls are refused as if open. All state is a few
 * numbers and a fixed ring of outcomes: O(1) per call, no timers.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

/** The `bankgate_circuit_state` gauge values. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, open: 1, 'half-open': 2 };

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** Failure share over the last `windowSize` calls that opens the circuit (0 < r ≤ 1), once the window is full. */
  readonly failureRate: number;
  readonly windowSize: number;
  /** How long the circuit stays open before the first probe is let through. */
  readonly coolDownMs: number;
  /** The longest cool-down, reached by doubling `coolDownMs` after each failed probe. Default `coolDownMs` (no growth). */
  readonly maxCoolDownMs?: number;
  readonly now?: () => number;
  /** Called on every state change. */
  readonly onStateChange?: (state: CircuitState) => void;
}

/** What `tryAcquire` answers: go ahead (and report the outcome), or refused until `retryAt` (epoch ms). */
export type Permit = { readonly allowed: true; readonly probe: boolean } | { readonly allowed: false; readonly retryAt: number };

const ALLOWED: Permit = { allowed: true, probe: false };
const PROBE: Permit = { allowed: true, probe: true };

export class CircuitBreaker {
  #state: CircuitState = 'closed';
  #consecutive = 0;
  #openedAt = 0;
  /** The cool-down of the current opening. */
  #coolDownMs: number;
  #probing = false;
  readonly #window: Uint8Array;
  #next = 0;
  #filled = 0;
  #failuresInWindow = 0;
  readonly #options: CircuitBreakerOptions;
  readonly #now: () => number;

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#window = new Uint8Array(options.windowSize);
    this.#coolDownMs = options.coolDownMs;
  }

  get state(): CircuitState {
    return this.#state;
  }

  /** Asks to send one call. A granted probe must be followed by `record()` (or `release()` if nothing was sent). */
  tryAcquire(): Permit {
    if (this.#state === 'closed') return ALLOWED;
    const retryAt = this.#openedAt + this.#coolDownMs;
    if (this.#state === 'open' && this.#now() >= retryAt) this.#transition('half-open');
    if (this.#state === 'half-open' && !this.#probing) {
      this.#probing = true;
      return PROBE;
    }
    return { allowed: false, retryAt: Math.max(retryAt, this.#now()) };
  }

  /** Reports the outcome of a call that `tryAcquire` allowed. */
  record(success: boolean, probe: boolean): void {
    if (probe) {
      this.#probing = false;
      if (success) this.#reset();
      else this.#open(Math.min(this.#coolDownMs * 2, Math.max(this.#options.maxCoolDownMs ?? 0, this.#options.coolDownMs)));
      return;
    }
    // Outcomes of calls sent before the circuit opened do not move it.
    if (this.#state !== 'closed') return;
    this.#push(success);
    this.#consecutive = success ? 0 : this.#consecutive + 1;
    const { failureThreshold, failureRate, windowSize } = this.#options;
    if (this.#consecutive >= failureThreshold || (this.#filled === windowSize && this.#failuresInWindow / windowSize >= failureRate)) this.#open(this.#options.coolDownMs);
  }

  /** A granted probe that sent nothing (e.g. the caller aborted first): let the next call probe. */
  release(probe: boolean): void {
    if (probe) this.#probing = false;
  }

  #push(success: boolean): void {
    const failed = success ? 0 : 1;
    if (this.#filled === this.#window.length) this.#failuresInWindow -= this.#window[this.#next]!;
    else this.#filled++;
    this.#window[this.#next] = failed;
    this.#failuresInWindow += failed;
    this.#next = (this.#next + 1) % this.#window.length;
  }

  #open(coolDownMs: number): void {
    this.#coolDownMs = coolDownMs;
    this.#openedAt = this.#now();
    this.#transition('open');
  }

  #reset(): void {
    this.#consecutive = 0;
    this.#window.fill(0);
    this.#next = this.#filled = this.#failuresInWindow = 0;
    this.#transition('closed');
  }

  #transition(state: CircuitState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#options.onStateChange?.(state);
  }
}
