import { mkdirSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../../../log.js';
import type { Connection, ConnectionStore } from '../../../store/connection.js';
import { KeyRing } from '../../../store/key-ring.js';
import { createLocalStore } from '../../../store/local-store.js';
import { openConnection, sealConnection } from '../../../store/sealed-connection.js';
import { storeUnavailable } from '../../../store/store-error.js';
import { removeFileDurably, TEMP_PREFIX, writeFileAtomic } from './atomic-file.js';
import { claimDirectory } from './directory-owner.js';

export interface FileStoreOptions {
  /** Directory of the store; created 0700 when missing. */
  readonly dir: string;
  readonly keys: KeyRing;
  readonly log: Logger;
}

const FILE_PREFIX = 'c_';
const FILE_SUFFIX = '.json';

/** One file per connection, named from its id (base64url: any id is a safe file name). */
const fileNameOf = (id: string) => `${FILE_PREFIX}${Buffer.from(id, 'utf8').toString('base64url')}${FILE_SUFFIX}`;
const idOf = (name: string) => Buffer.from(name.slice(FILE_PREFIX.length, -FILE_SUFFIX.length), 'base64url').toString('utf8');

/**
 * The embedded default store (`file:./.bankgate/tokens`): every connection in its own file, sealed with
 * AES-256-GCM (see key-ring.ts), written atomically (temp file, fsync, rename, fsync of the directory) before
 * the write is acknowledged, so that a restart, a crash or `kill -9` loses no connection. Everything is
 * loaded at start and served from memory; records sealed under a retired key are re-sealed with the current
 * key then. One process per directory (see directory-owner.ts).
 */
export async function createFileStore(options: FileStoreOptions): Promise<ConnectionStore> {
  const dir = resolve(options.dir);
  const label = `file:${options.dir}`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const release = claimDirectory(dir, label);
  try {
    const initial = await load(dir, options);
    const fail = (cause: unknown) => {
      throw storeUnavailable(label, cause);
    };
    return createLocalStore({
      initial,
      persistence: {
        write: async (connection) => writeFileAtomic(dir, fileNameOf(connection.id), await serialise(options.keys, connection)).catch(fail),
        remove: (id) => removeFileDurably(dir, fileNameOf(id)).catch(fail),
        async close() {
          release();
        },
      },
    });
  } catch (error) {
    release();
    throw error;
  }
}

async function serialise(keys: KeyRing, connection: Connection & { revision: number }): Promise<string> {
  const { revision, sealed } = await sealConnection(keys, connection, connection.revision);
  return `${JSON.stringify({ v: 1, revision, sealed })}\n`;
}

/** Files read and opened at once while loading: the reads overlap, and WebCrypto's opens run on the thread pool. */
const LOAD_BATCH = 64;

async function load(dir: string, options: FileStoreOptions): Promise<Array<Connection & { revision: number }>> {
  const loaded: Array<Connection & { revision: number }> = [];
  const unknownKeys = new Set<string>();
  const names = await readdir(dir);
  for (let at = 0; at < names.length; at += LOAD_BATCH) {
    const results = await Promise.all(names.slice(at, at + LOAD_BATCH).map((name) => loadFile(dir, name, options)));
    for (const result of results) {
      if (result === undefined) continue;
      if ('unknownKey' in result) unknownKeys.add(result.unknownKey);
      else loaded.push(result.connection);
    }
  }
  if (unknownKeys.size > 0) {
    throw new Error(
      `store: ${[...unknownKeys].length} key id(s) of stored connections (${[...unknownKeys].join(', ')}) are not configured; ` +
        `add the old key to store.encryption.previousKeys (or BANKGATE_STORE_PREVIOUS_KEYS) so that no connection is lost`,
    );
  }
  return loaded;
}

/** One file of the store directory: its connection, the unknown key id it is sealed with, or nothing (not ours, or unreadable and logged). */
async function loadFile(dir: string, name: string, { keys, log }: FileStoreOptions): Promise<{ connection: Connection & { revision: number } } | { unknownKey: string } | undefined> {
  if (name.startsWith(TEMP_PREFIX)) {
    // A write that a crash interrupted before its rename: the previous file is still the truth.
    await unlink(join(dir, name)).catch(() => {});
    return undefined;
  }
  if (!name.startsWith(FILE_PREFIX) || !name.endsWith(FILE_SUFFIX)) return undefined;
  const id = idOf(name);
  let record: { revision: number; sealed: string };
  try {
    record = JSON.parse(await readFile(join(dir, name), 'utf8')) as { revision: number; sealed: string };
  } catch {
    // Kept on disk for an operator to look at; never deleted.
    log.error('store.record_unreadable', { store: 'file', connectionId: id, reason: 'not JSON' });
    return undefined;
  }
  const keyId = KeyRing.keyIdOf(record.sealed);
  if (keyId !== undefined && !keys.ids.includes(keyId)) return { unknownKey: keyId };
  try {
    const connection = (await openConnection(keys, id, record)) as Connection & { revision: number };
    if (keyId !== keys.current.id) await writeFileAtomic(dir, name, await serialise(keys, connection));
    return { connection };
  } catch {
    log.error('store.record_unreadable', { store: 'file', connectionId: id, reason: 'failed authentication' });
    return undefined;
  }
}
