/** The Node journal on a real directory: sealed, durable across a new process's reading, newest entry wins. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileJournal } from '../../plugin/adapter/node/store/file-journal.js';
import { createLineLogger } from '../../plugin/log.js';
import { KeyRing, parseStoreKey } from '../../plugin/store/key-ring.js';
import type { JournalEntry } from '../../plugin/store/token-journal.js';
import { STORE_KEY } from './vault-harness.js';

const entry = (storageId: string, n: number, journaledAt: number): JournalEntry => ({
  storageId,
  usedRefreshToken: `rt-used-${n}`,
  tokens: { accessToken: `at-secret-${n}`, refreshToken: `rt-secret-${n}`, expiresAt: 1, expiresIn: 60 },
  journaledAt,
});

describe('createFileJournal', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('keeps entries sealed on disk, reads them back in a new instance, and removes only the entry it was asked to', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bankgate-journal-')), 'journal');
    dirs.push(dir);
    const keys = new KeyRing(await parseStoreKey(STORE_KEY, 'k'));
    const journal = await createFileJournal({ dir, keys, log: createLineLogger(() => {}) });
    await journal.write(entry('jwt:https://idp#alice/c1', 1, 100));
    await journal.write(entry('key:app/c2', 2, 100));
    await journal.write(entry('key:app/c2', 3, 200)); // a newer refresh of c2 replaces its entry
    const files = readdirSync(dir);
    expect(files).toHaveLength(2);
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text).not.toMatch(/secret|rt-used|alice/);
      expect(file).toMatch(/^[0-9a-f]{64}\.journal$/);
    }
    const reopened = await createFileJournal({ dir, keys, log: createLineLogger(() => {}) });
    expect((await reopened.entries()).sort((a, b) => a.storageId.localeCompare(b.storageId))).toEqual([entry('jwt:https://idp#alice/c1', 1, 100), entry('key:app/c2', 3, 200)]);
    await reopened.remove('key:app/c2', 100); // the replaced entry: the newer one stays
    expect(await reopened.entries()).toHaveLength(2);
    await reopened.remove('key:app/c2', 200);
    await reopened.remove('key:app/nothing', 1);
    expect((await reopened.entries()).map((e) => e.storageId)).toEqual(['jwt:https://idp#alice/c1']);
  });

  it('reports an entry that does not open (tampered, or another key) and leaves it for an operator', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bankgate-journal-'));
    dirs.push(dir);
    const lines: string[] = [];
    const journal = await createFileJournal({ dir, keys: new KeyRing(await parseStoreKey(STORE_KEY, 'k')), log: createLineLogger((line) => lines.push(line)) });
    await journal.write(entry('key:app/c1', 1, 100));
    await journal.write(entry('key:app/c2', 2, 100));
    const [first, second] = readdirSync(dir);
    // One entry copied over the other's file (a rollback or a mix-up), the other with a flipped bit.
    writeFileSync(join(dir, second!), readFileSync(join(dir, first!)));
    const sealed = readFileSync(join(dir, first!), 'utf8');
    writeFileSync(join(dir, first!), sealed.slice(0, -3) + (sealed.at(-3) === 'A' ? 'B' : 'A') + sealed.slice(-2));
    expect(await journal.entries()).toEqual([]);
    expect(lines.some((line) => line.includes('token.journal_unreadable'))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([first, second].sort());
  });
});
