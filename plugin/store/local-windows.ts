import type { WindowHit, WindowOptions, WindowPeek } from './connection.js';

/** Rejects a limit a window cannot be checked against. */
export function checkWindowOptions(key: string, options: WindowOptions & { limit?: number }): void {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('window key must be a non-empty string');
  if (!Number.isSafeInteger(options.windowMs) || options.windowMs <= 0) throw new TypeError('windowMs must be a positive integer');
  if (!Number.isFinite(options.now)) throw new TypeError('now must be epoch milliseconds');
  if (options.limit !== undefined && (!Number.isSafeInteger(options.limit) || options.limit < 1)) throw new TypeError('limit must be an integer ≥ 1');
}

/**
 * Rolling-window counters in this process's memory (the memory and file stores): per key, the times of the
 * hits still in the window, oldest first. A hit at `t` counts while `now - t < windowMs`.
 */
export class LocalWindows {
  readonly #hits = new Map<string, number[]>();

  constructor(initial: Iterable<[string, readonly number[]]> = []) {
    for (const [key, hits] of initial) if (hits.length > 0) this.#hits.set(key, [...hits].sort((a, b) => a - b));
  }

  /**
   * What a hit would do: the outcome, and the hits `key` holds once it is counted. Nothing changes until
   * `set` (a store persists first, then sets: a hit that could not be persisted is not counted).
   */
  plan(key: string, { windowMs, now, limit }: WindowOptions & { limit: number }): { result: WindowHit; hits: readonly number[] } {
    const hits = this.#live(key, windowMs, now);
    if (hits.length >= limit) return { result: { allowed: false, count: hits.length, retryAfterMs: Math.max(1, hits[0]! + windowMs - now) }, hits };
    const next = [...hits, now].sort((a, b) => a - b);
    return { result: { allowed: true, count: next.length }, hits: next };
  }

  set(key: string, hits: readonly number[]): void {
    if (hits.length === 0) this.#hits.delete(key);
    else this.#hits.set(key, [...hits]);
  }

  peek(key: string, { windowMs, now }: WindowOptions): WindowPeek {
    const hits = this.#live(key, windowMs, now);
    return hits.length === 0 ? { count: 0 } : { count: hits.length, resetAt: hits[0]! + windowMs };
  }

  /** The hits of `key` still inside the window; an emptied key is forgotten. */
  #live(key: string, windowMs: number, now: number): number[] {
    const hits = this.#hits.get(key);
    if (!hits) return [];
    const live = hits.filter((t) => now - t < windowMs);
    if (live.length === 0) this.#hits.delete(key);
    else if (live.length !== hits.length) this.#hits.set(key, live);
    return live;
  }
}
