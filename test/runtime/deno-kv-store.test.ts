/**
 * The Deno KV store against the ConnectionStore v2 contract, run INSIDE Deno (the store needs Deno KV) on a
 * KV database file: every check's line must be `ok`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STORE_CONTRACT } from './store-contract-v2.js';
import { runtimeBinary, startRuntimeProcess } from './runtime-process.js';

describe('Deno KV store: the ConnectionStore v2 contract, inside Deno', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bankgate-denokv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes every check on a KV file, holds nothing in clear, binds records to their id', async () => {
    const run = startRuntimeProcess(runtimeBinary('deno'), ['run', '--allow-all', '--sloppy-imports', '--unstable-kv', 'test/runtime/probe/kv-contract.ts', join(dir, 'contract.kv')], {});
    await run.waitFor('done', 50_000);
    const lines = run.lines.filter((line) => line.startsWith('contract '));
    expect(lines.filter((line) => !line.startsWith('contract ok '))).toEqual([]);
    expect(lines).toHaveLength(STORE_CONTRACT.length + 2);
    expect(await run.exited).toBe(0);
  });
});
