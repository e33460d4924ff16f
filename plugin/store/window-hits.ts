import type { WindowHit, WindowOptions, WindowPeek } from './connection.js';

/**
 * A rolling window kept as the times of its hits (the shared stores that hold one list per key: Deno KV,
 * Durable Objects), with the semantics of `LocalWindows`: a hit at `t` counts while `now - t < windowMs`; a
 * refused hit is not counted. Pure: the store reads the list, calls this, and writes `hits` atomically.
 */
export function planHit(stored: readonly number[], { windowMs, now, limit }: WindowOptions & { limit: number }): { result: WindowHit; hits: number[] } {
  const live = liveHits(stored, windowMs, now);
  if (live.length >= limit) return { result: { allowed: false, count: live.length, retryAfterMs: Math.max(1, live[0]! + windowMs - now) }, hits: live };
  const hits = [...live, now].sort((a, b) => a - b);
  return { result: { allowed: true, count: hits.length }, hits };
}

/** The window's count now, and when its oldest hit leaves it. */
export function peekHits(stored: readonly number[], { windowMs, now }: WindowOptions): WindowPeek {
  const live = liveHits(stored, windowMs, now);
  return live.length === 0 ? { count: 0 } : { count: live.length, resetAt: live[0]! + windowMs };
}

/** The hits still inside the window at `now`, oldest first. */
export function liveHits(stored: readonly number[], windowMs: number, now: number): number[] {
  return stored.filter((t) => now - t < windowMs).sort((a, b) => a - b);
}
