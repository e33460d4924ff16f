/**
 * Locks with an owner and a TTL in this process's memory: enough for the memory and file stores, which
 * belong to one process (the file store refuses a directory another live process holds).
 */
export class LocalLocks {
  readonly #held = new Map<string, { owner: string; expiresAt: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  acquire(name: string, owner: string, ttlMs: number): boolean {
    const held = this.#held.get(name);
    if (held && held.expiresAt > this.now()) return false;
    this.#held.set(name, { owner, expiresAt: this.now() + ttlMs });
    return true;
  }

  /** Extends a lease still held by `owner`; an expired lease is not held any more, even if nobody took it. */
  renew(name: string, owner: string, ttlMs: number): boolean {
    const held = this.#held.get(name);
    if (!held || held.owner !== owner || held.expiresAt <= this.now()) return false;
    held.expiresAt = this.now() + ttlMs;
    return true;
  }

  release(name: string, owner: string): boolean {
    const held = this.#held.get(name);
    if (!held || held.owner !== owner) return false;
    this.#held.delete(name);
    return true;
  }
}
