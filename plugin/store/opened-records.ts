import { storageIdOf, type Connection } from './connection.js';
import type { KeyRing } from './key-ring.js';
import { openConnection, sealConnection, type SealedConnection } from './sealed-connection.js';

interface Opened {
  readonly sealed: string;
  readonly connection: Connection;
}

/**
 * Sealing and opening for a store that reads every record from a shared backend (Redis) on every call:
 * a record whose sealed value is byte-identical to the one last opened (or written) for that id is not
 * decrypted again. Opening is deterministic in (key, value, id), so this changes no answer: every read
 * still goes to the backend (a record deleted or rewritten by another replica is seen at once), only the
 * AES-GCM work is skipped when nothing changed, which WebCrypto's asynchronous calls make worth skipping.
 * Bounded: the oldest entries go first once `limit` ids are held.
 */
export class OpenedRecords {
  readonly #byId = new Map<string, Opened>();

  constructor(
    readonly keys: KeyRing,
    private readonly limit = 10_000,
  ) {}

  /** Opens the record stored under `id` (a storage id). */
  async open(id: string, record: SealedConnection): Promise<Connection> {
    const known = this.#byId.get(id);
    if (known && known.sealed === record.sealed) return { ...known.connection, revision: record.revision };
    const connection = await openConnection(this.keys, id, record);
    this.#remember(id, record.sealed, connection);
    return connection;
  }

  /** Seals a connection for writing, remembering it: the next read of the same value costs no decryption. */
  async seal(connection: Connection, revision: number): Promise<SealedConnection> {
    const sealed = await sealConnection(this.keys, connection, revision);
    this.#remember(storageIdOf(connection), sealed.sealed, connection);
    return sealed;
  }

  forget(id: string): void {
    this.#byId.delete(id);
  }

  #remember(id: string, sealed: string, connection: Connection): void {
    const { revision: _revision, ...rest } = connection;
    this.#byId.delete(id); // re-inserted last: the Map's order is the age order
    if (this.#byId.size >= this.limit) this.#byId.delete(this.#byId.keys().next().value!);
    this.#byId.set(id, { sealed, connection: rest });
  }
}
