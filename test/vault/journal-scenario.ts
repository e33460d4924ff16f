import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisServer } from './redis-server.js';
import { startVaultHarness, type VaultHarness } from './vault-harness.js';

/** One gateway on a Redis that can be killed and brought back from its append-only file, with or without a local journal. */
export interface JournalScenario {
  readonly h: VaultHarness;
  /** `kill -9` of Redis. */
  killRedis(): Promise<void>;
  /** Redis again, on its port, from its append-only file. */
  restartRedis(): Promise<void>;
  /** The journal files held now. */
  journaled(): string[];
  close(): Promise<void>;
}

export async function startJournalScenario(journal: 'file' | 'none', options: { accessTtlSeconds?: number } = {}): Promise<JournalScenario> {
  const redisDir = mkdtempSync(join(tmpdir(), 'bankgate-redis-'));
  const journalDir = mkdtempSync(join(tmpdir(), 'bankgate-journal-'));
  let redis: RedisServer | undefined = await startRedis({ persistDir: redisDir });
  const port = redis.port;
  const h = await startVaultHarness({ ...options, store: redis.url, env: { BANKGATE_JOURNAL: journal === 'file' ? journalDir : 'none' } });
  return {
    h,
    async killRedis() {
      await redis?.stop();
      redis = undefined;
    },
    async restartRedis() {
      redis = await startRedis({ port, persistDir: redisDir });
    },
    journaled: () => readdirSync(journalDir).filter((name) => name.endsWith('.journal')),
    async close() {
      await h.close();
      await redis?.stop();
      for (const dir of [redisDir, journalDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}
