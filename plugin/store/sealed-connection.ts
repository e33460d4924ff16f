import { storageIdOf, type Connection } from './connection.js';
import type { KeyRing } from './key-ring.js';

/** What a persistent store keeps per connection: the revision in clear (for compare-and-set), the rest sealed. */
export interface SealedConnection {
  readonly revision: number;
  readonly sealed: string;
}

/** The associated data binding a sealed record to its storage id: a record copied under another id does not open. */
export const connectionAad = (storageId: string) => `bankgate:connection:${storageId}`;

export async function sealConnection(keys: KeyRing, connection: Connection, revision: number): Promise<SealedConnection> {
  const { revision: _ignored, ...rest } = connection;
  return { revision, sealed: await keys.seal(JSON.stringify(rest), connectionAad(storageIdOf(connection))) };
}

export async function openConnection(keys: KeyRing, storageId: string, record: SealedConnection): Promise<Connection> {
  const connection = JSON.parse(await keys.open(record.sealed, connectionAad(storageId))) as Connection;
  return { ...connection, revision: record.revision };
}
