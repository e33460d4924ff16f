import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../log.js';
import type { KeyRing } from '../../../store/key-ring.js';
import type { JournalEntry, TokenJournal } from '../../../store/token-journal.js';
import { removeFileDurably, TEMP_PREFIX, writeFileAtomic } from './atomic-file.js';

const SUFFIX = '.journal';
/** Binds a sealed entry to its file, whose name is bound to the storage id inside it: a file copied under another name does not open. */
const aad = (fileName: string) => `bankgate:journal:${fileName}`;

/**
 * The Node journal (`TokenJournal`): one file per connection in `dir`, named by a SHA-256 of its storage id
 * (no caller or connection name on disk), holding the entry sealed with the store's keys (AES-256-GCM, bound
 * to its file name, which is bound to the storage id inside). Written atomically and fsync'd, file and directory (`writeFileAtomic`), before the
 * refresh counts as done. Replicas on one host may share the directory: an entry is written by the replica
 * holding the connection's refresh lock, and replaying it twice is harmless (compare-and-set, see
 * journaled-store.ts); a replica reads the entries of others only when it starts.
 * An entry that does not open (tampered, or sealed with a key no longer configured) is reported and left
 * in place for an operator.
 */
export async function createFileJournal(options: { dir: string; keys: KeyRing; log: Logger }): Promise<TokenJournal> {
  const { dir, keys, log } = options;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const fileOf = (storageId: string) => `${createHash('sha256').update(storageId).digest('hex')}${SUFFIX}`;
  return {
    async write(entry) {
      const name = fileOf(entry.storageId);
      await writeFileAtomic(dir, name, await keys.seal(JSON.stringify(entry), aad(name)));
    },
    async entries() {
      const found: JournalEntry[] = [];
      for (const name of await readdir(dir)) {
        if (!name.endsWith(SUFFIX) || name.startsWith(TEMP_PREFIX)) continue;
        try {
          const entry = JSON.parse(await keys.open(await readFile(join(dir, name), 'utf8'), aad(name))) as JournalEntry;
          if (fileOf(entry.storageId) !== name) throw new Error('misplaced');
          found.push(entry);
        } catch {
          log.error('token.journal_unreadable', { file: name, detail: 'a journal entry does not open (tampered, or sealed with a key that is not configured): left in place' });
        }
      }
      return found;
    },
    async remove(storageId, journaledAt) {
      const name = fileOf(storageId);
      try {
        const held = JSON.parse(await keys.open(await readFile(join(dir, name), 'utf8'), aad(name))) as JournalEntry;
        if (held.journaledAt !== journaledAt) return; // a newer entry for the same connection
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      }
      await removeFileDurably(dir, name);
    },
  };
}
