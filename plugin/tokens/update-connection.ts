import type { Connection, ConnectionStore } from '../store/connection.js';

/**
 * Read-modify-write with compare-and-set on the connection stored under `storageId`: applies `change` to the latest stored connection until the write
 * lands on the revision it read. `change` returns undefined to write nothing. Returns what was stored, or
 * undefined when the connection was deleted (a deleted connection is never written back) or `change` declined.
 */
export async function updateConnection(store: ConnectionStore, storageId: string, change: (latest: Connection) => Connection | undefined): Promise<Connection | undefined> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const latest = await store.get(storageId);
    if (!latest || latest.revision === undefined) return undefined;
    const next = change(latest);
    if (!next) return undefined;
    const stored = await store.compareAndSet(next, latest.revision);
    if (stored) return stored;
  }
  throw new Error(`connection ${storageId} kept changing under 10 consecutive writes`);
}
