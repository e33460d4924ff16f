import { mkdirSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../../../log.js';
import { storageIdOf, type Connection, type ConnectionStore } from '../../../store/connection.js';
import { KeyRing } from '../../../store/key-ring.js';
import { createLocalStore } from '../../../store/local-store.js';
import { connectionAad, openConnection } from '../../../store/sealed-connection.js';
import { storeUnavailable } from '../../../store/store-error.js';
import { removeFileDurably, TEMP_PREFIX, writeFileAtomic } from './atomic-file.js';
import { claimDirectory } from './directory-owner.js';
import { GenerationLog } from './generation-log.js';

export interface FileStoreOptions {
  /** Directory of the store; created 0700 when missing. */
  readonly dir: string;
  readonly keys: KeyRing;
  readonly log: Logger;
}

const FILE_PREFIX = 'c_';
const WINDOW_PREFIX = 'w_';
const FILE_SUFFIX = '.json';
/** Rolling windows whose newest hit is older than this are dropped at start (no window spans more). */
const WINDOW_KEPT_MS = 31 * 24 * 3600_000;

/** One file per connection, named from its storage id (base64url: any id is a safe file name). */
const fileNameOf = (id: string, prefix = FILE_PREFIX) => `${prefix}${Buffer.from(id, 'utf8').toString('base64url')}${FILE_SUFFIX}`;
const idOf = (name: string, prefix = FILE_PREFIX) => Buffer.from(name.slice(prefix.length, -FILE_SUFFIX.length), 'base64url').toString('utf8');
/** A v2 record authenticates its revision and its store-wide generation along with its storage id. */
const recordAad = (id: string, revision: number, generation: number) => `${connectionAad(id)}#${revision}#${generation}`;
const windowAad = (key: string) => `bankgate:window:${key}`;

type Stored = Connection & { revision: number };
export interface FileRecord {
  readonly v: number;
  readonly revision: number;
  readonly generation?: number;
  readonly sealed: string;
}

/**
 * The embedded default store (`file:./.bankgate/tokens`): every connection in its own file, sealed with
 * AES-256-GCM (see key-ring.ts), written atomically (temp file, fsync, rename, fsync of the directory) before
 * the write is acknowledged, so that a restart, a crash or `kill -9` loses no connection. Everything is
 * loaded at start and served from memory; records sealed under a retired key are re-sealed with the current
 * key then. One process per directory (see directory-owner.ts).
 *
 * Each record's revision and store-wide generation are authenticated (sealed with it), and every write is
 * also recorded in a sealed generation log: a record older than the last one this store wrote for its id
 * (a file rolled back into the directory) is refused at start and reported (`store.record_rolled_back`).
 * Rolling windows (`hitWindow`) are kept in `w_*.json` files, sealed the same way.
 */
export async function createFileStore(options: FileStoreOptions): Promise<ConnectionStore> {
  const dir = resolve(options.dir);
  const label = `file:${options.dir}`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const release = claimDirectory(dir, label);
  try {
    const generations = await GenerationLog.open(dir, options.keys, () => options.log.error('store.generation_log_unreadable', { store: 'file', detail: 'a line of the generation log failed authentication' }));
    const { connections, windows } = await load(dir, options, generations);
    await generations.compact();
    let generation = generations.highest;
    const fail = (cause: unknown) => {
      throw storeUnavailable(label, cause);
    };
    return createLocalStore({
      initial: connections,
      initialWindows: windows,
      persistence: {
        async write(connection) {
          const id = storageIdOf(connection);
          const at = ++generation;
          await writeFileAtomic(dir, fileNameOf(id), await serialise(options.keys, connection, at))
            .then(() => generations.record(id, at))
            .catch(fail);
        },
        async remove(id) {
          const at = ++generation;
          await removeFileDurably(dir, fileNameOf(id))
            .then(() => generations.record(id, at, true))
            .catch(fail);
        },
        async writeWindow(key, hits) {
          const sealed = await options.keys.seal(JSON.stringify(hits), windowAad(key));
          await writeFileAtomic(dir, fileNameOf(key, WINDOW_PREFIX), `${JSON.stringify({ v: 1, sealed })}\n`).catch(fail);
        },
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

async function serialise(keys: KeyRing, connection: Stored, generation: number): Promise<string> {
  const id = storageIdOf(connection);
  const { revision, ...rest } = connection;
  const sealed = await keys.seal(JSON.stringify(rest), recordAad(id, revision, generation));
  return `${JSON.stringify({ v: 2, revision, generation, sealed })}\n`;
}

/** Files read and opened at once while loading: the reads overlap, and WebCrypto's opens run on the thread pool. */
const LOAD_BATCH = 64;

type Loaded = { connection: Stored; generation: number } | { window: [string, number[]] } | { unknownKey: string } | undefined;

async function load(dir: string, options: FileStoreOptions, generations: GenerationLog): Promise<{ connections: Stored[]; windows: Array<[string, number[]]> }> {
  const connections: Stored[] = [];
  const windows: Array<[string, number[]]> = [];
  const unknownKeys = new Set<string>();
  const names = await readdir(dir);
  for (let at = 0; at < names.length; at += LOAD_BATCH) {
    const results = await Promise.all(names.slice(at, at + LOAD_BATCH).map((name) => loadFile(dir, name, options, generations)));
    for (const result of results) {
      if (result === undefined) continue;
      if ('unknownKey' in result) unknownKeys.add(result.unknownKey);
      else if ('window' in result) windows.push(result.window);
      else connections.push(result.connection);
    }
  }
  if (unknownKeys.size > 0) {
    throw new Error(
      `store: ${[...unknownKeys].length} key id(s) of stored connections (${[...unknownKeys].join(', ')}) are not configured; ` +
        `add the old key to store.encryption.previousKeys (or BANKGATE_STORE_PREVIOUS_KEYS) so that no connection is lost`,
    );
  }
  return { connections, windows };
}

/** One file of the store directory: its connection or window, the unknown key id it is sealed with, or nothing (not ours, or refused and logged). */
async function loadFile(dir: string, name: string, options: FileStoreOptions, generations: GenerationLog): Promise<Loaded> {
  const { keys, log } = options;
  if (name.startsWith(TEMP_PREFIX)) {
    // A write that a crash interrupted before its rename: the previous file is still the truth.
    await unlink(join(dir, name)).catch(() => {});
    return undefined;
  }
  if (!name.endsWith(FILE_SUFFIX)) return undefined;
  if (name.startsWith(WINDOW_PREFIX)) return loadWindow(dir, name, keys);
  if (!name.startsWith(FILE_PREFIX)) return undefined;
  const id = idOf(name);
  let record: FileRecord;
  try {
    record = JSON.parse(await readFile(join(dir, name), 'utf8')) as FileRecord;
  } catch {
    // Kept on disk for an operator to look at; never deleted.
    log.error('store.record_unreadable', { store: 'file', connectionId: id, reason: 'not JSON' });
    return undefined;
  }
  const keyId = KeyRing.keyIdOf(record.sealed);
  if (keyId !== undefined && !keys.ids.includes(keyId)) return { unknownKey: keyId };
  let connection: Stored;
  let generation: number;
  try {
    ({ connection, generation } = await openFileRecord(keys, id, record));
  } catch {
    log.error('store.record_unreadable', { store: 'file', connectionId: id, reason: 'failed authentication' });
    return undefined;
  }
  const seen = generations.seen.get(id);
  // Before this store kept a log, records had no authenticated generation: they are taken (and upgraded) once.
  const rolledBack = generation === 0 ? generations.existed : seen !== undefined && (generation < seen.generation || (seen.deleted && generation === seen.generation));
  if (rolledBack) {
    // Kept on disk for an operator to look at; never loaded.
    log.error('store.record_rolled_back', {
      store: 'file',
      connectionId: id,
      detail: `the file is older than the last record this store wrote for it (generation ${generation} < ${seen?.generation ?? 'logged'}${seen?.deleted ? ', deleted since' : ''}); refused`,
    });
    return undefined;
  }
  if (generation === 0 || keyId !== keys.current.id) {
    generation = Math.max(generation, seen?.generation ?? 0, 1);
    await writeFileAtomic(dir, name, await serialise(keys, connection, generation));
  }
  generations.seen.set(id, { generation, deleted: false });
  return { connection, generation };
}

/**
 * Opens one record file's content (stored under storage id `id`): the connection, and the generation its
 * record authenticates (0 for a v1 record, written before generations). Throws when it fails authentication.
 */
export async function openFileRecord(keys: KeyRing, id: string, record: FileRecord): Promise<{ connection: Stored; generation: number }> {
  if (record.v === 2 && Number.isSafeInteger(record.generation)) {
    const generation = record.generation!;
    return { connection: { ...(JSON.parse(await keys.open(record.sealed, recordAad(id, record.revision, generation))) as Connection), revision: record.revision }, generation };
  }
  return { connection: (await openConnection(keys, id, record)) as Stored, generation: 0 };
}

async function loadWindow(dir: string, name: string, keys: KeyRing): Promise<Loaded> {
  const key = idOf(name, WINDOW_PREFIX);
  try {
    const { sealed } = JSON.parse(await readFile(join(dir, name), 'utf8')) as { sealed: string };
    const hits = JSON.parse(await keys.open(sealed, windowAad(key))) as number[];
    if (!Array.isArray(hits) || hits.length === 0 || Math.max(...hits) < Date.now() - WINDOW_KEPT_MS) {
      await unlink(join(dir, name)).catch(() => {});
      return undefined;
    }
    if (KeyRing.keyIdOf(sealed) !== keys.current.id) {
      await writeFileAtomic(dir, name, `${JSON.stringify({ v: 1, sealed: await keys.seal(JSON.stringify(hits), windowAad(key)) })}\n`);
    }
    return { window: [key, hits] };
  } catch {
    // A window that cannot be read counts nothing: the bank's own limit still applies.
    return undefined;
  }
}
