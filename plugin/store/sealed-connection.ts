import type { Connection } from './connection.js';
import type { KeyRing } from './key-ring.js';

/** What a persistent store keeps per connection: the revision in clear (for compare-and-set), the rest sealed. */
export interface SealedConnection {
  readonly revision: number;
  readonly sealed: string;
}

const aad = (id: string) => `bankgate:connection:${id}`;

export async function sealConnection(keys: KeyRing, connection: Connection, revision: number): Promise<SealedConnection> {
  const { revision: _ignored, ...rest } = connection;
  return { revision, sealed: await keys.seal(JSON.stringify(rest), aad(connection.id)) };
}

export async function openConnection(keys: KeyRing, id: string, record: SealedConnection): Promise<Connection> {
  const connection = JSON.parse(await keys.open(record.sealed, aad(id))) as Connection;
  return { ...connection, revision: record.revision };
}
