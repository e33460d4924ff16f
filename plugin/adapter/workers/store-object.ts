/**
 * The Durable Object behind `durable-object:<BINDING>` stores: one object per connection (`c:<storage id>`),
 * per lock and per rolling window, each the single owner of its cell. Every operation runs whole inside
 * `blockConcurrencyWhile`, so it is atomic: no other request to the object interleaves between its read and
 * its write. The object never calls out (no bank call inside it: the input gates of an object do not hold
 * other requests while it awaits a fetch), so the refresh runs in the Worker under the object's lease lock
 * and lands by compare-and-set on the object's revision: one refresh per connection across every isolate.
 * Values are sealed by the Worker (AES-256-GCM, WebCrypto) before they reach the object.
 */
import { peekHits, planHit } from '../../store/window-hits.js';
import type { DurableObjectState } from './workers-api.js';

/** One operation on an object's cell, as the store client sends it. */
export type CellOperation =
  | { readonly op: 'get' }
  /** Writes `value` (null: deletes) when the cell's version is `expect` (0: the cell is empty). */
  | { readonly op: 'cas'; readonly expect: number; readonly value: unknown }
  /** Writes `value` whatever is there (a `put`). */
  | { readonly op: 'set'; readonly value: unknown }
  | { readonly op: 'acquire' | 'renew'; readonly owner: string; readonly ttlMs: number }
  | { readonly op: 'release'; readonly owner: string }
  | { readonly op: 'hit'; readonly windowMs: number; readonly limit: number; readonly now: number }
  | { readonly op: 'peek'; readonly windowMs: number; readonly now: number };

interface Cell {
  readonly version: number;
  readonly value: unknown;
}

interface Lease {
  readonly owner: string;
  readonly expiresAt: number;
}

/**
 * The Durable Object class. Export it from the Worker's entry and bind it in wrangler.jsonc
 * (`durable_objects.bindings: [{ name: 'BANKGATE_STORE', class_name: 'BankgateStoreObject' }]`, and a
 * `new_sqlite_classes` migration).
 */
export class BankgateStoreObject {
  constructor(private readonly state: DurableObjectState) {}

  async fetch(request: Request): Promise<Response> {
    const operation = (await request.json()) as CellOperation;
    const result = await this.state.blockConcurrencyWhile(() => this.apply(operation));
    return Response.json(result ?? null);
  }

  private async apply(operation: CellOperation): Promise<unknown> {
    const storage = this.state.storage;
    switch (operation.op) {
      case 'get':
        return (await storage.get<Cell>('cell')) ?? { version: 0, value: null };
      case 'set': {
        const version = ((await storage.get<Cell>('cell'))?.version ?? 0) + 1;
        await storage.put('cell', { version, value: operation.value } satisfies Cell);
        return { ok: true, version };
      }
      case 'cas': {
        const cell = await storage.get<Cell>('cell');
        if ((cell?.version ?? 0) !== operation.expect) return { ok: false, version: cell?.version ?? 0 };
        if (operation.value === null) {
          await storage.delete('cell');
          return { ok: true, version: 0 };
        }
        const version = operation.expect + 1;
        await storage.put('cell', { version, value: operation.value } satisfies Cell);
        return { ok: true, version };
      }
      case 'acquire':
      case 'renew': {
        const lease = await storage.get<Lease>('lease');
        const now = Date.now();
        const free = !lease || lease.expiresAt <= now;
        if (operation.op === 'acquire' ? !free : free || lease.owner !== operation.owner) return false;
        await storage.put('lease', { owner: operation.owner, expiresAt: now + operation.ttlMs } satisfies Lease);
        return true;
      }
      case 'release': {
        const lease = await storage.get<Lease>('lease');
        if (!lease || lease.owner !== operation.owner || lease.expiresAt <= Date.now()) return false;
        await storage.delete('lease');
        return true;
      }
      case 'hit': {
        const { result, hits } = planHit((await storage.get<number[]>('hits')) ?? [], operation);
        if (result.allowed) await storage.put('hits', hits);
        return result;
      }
      case 'peek':
        return peekHits((await storage.get<number[]>('hits')) ?? [], operation);
    }
  }
}
