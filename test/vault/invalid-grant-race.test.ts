/**
 * Issue 15, finding 2: a refresh refused with `invalid_grant` must not mark a connection whose stored grant
 * changed meanwhile (a re-consent stored a new, valid token set). Real sandbox bank, real gateway over
 * sockets; the store is the real file store, wrapped (injected, not mocked) so that the re-consent lands
 * exactly between the refused refresh and its write: no timing luck involved.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../plugin/adapter/node/store/file-store.js';
import { createJsonLogger } from '../../plugin/adapter/node/log.js';
import type { Connection, ConnectionStore } from '../../plugin/store/connection.js';
import { KeyRing, parseStoreKey } from '../../plugin/store/key-ring.js';
import { devConnection, revokeAtSg, startVaultHarness, STORE_KEY, type VaultHarness } from './vault-harness.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

describe('invalid_grant after a re-consent (finding 2)', () => {
  let h: VaultHarness;
  let offsetMs = 0;
  /** Runs once, right before the next write that would mark a connection reconsent_required. */
  let beforeMarking: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const inner = await createFileStore({ dir: join(mkdtempSync(join(tmpdir(), 'bankgate-ig-')), 'tokens'), keys: new KeyRing(await parseStoreKey(STORE_KEY, 'key')), log: createJsonLogger(() => {}) });
    const store: ConnectionStore = {
      ...inner,
      async compareAndSet(connection: Connection, expected: number) {
        const hook = connection.status === 'reconsent_required' ? beforeMarking : undefined;
        if (hook) {
          beforeMarking = undefined;
          await hook();
        }
        return inner.compareAndSet(connection, expected);
      },
    };
    // Long-lived tokens at the bank; the gateway's clock is moved past their expiry to force a refresh.
    h = await startVaultHarness({ accessTtlSeconds: 3600, gateway: { store, now: () => Date.now() + offsetMs } });
  });
  afterAll(() => h?.close());

  const sg = (id: string) => h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': id } });

  it('the refused refresh keeps the new consent: the connection stays active and the call answers 200', async () => {
    await h.connect('sg', 'sg-reconsented');
    const old = (await h.gateway.engine.store.get(devConnection('sg-reconsented')))!;
    await revokeAtSg(h.sandbox, old.tokens!.refreshToken!);
    let reconsented: Connection | undefined;
    beforeMarking = async () => {
      // The PSU consents again while the refresh of the revoked grant is being refused.
      offsetMs = 0;
      await h.connect('sg', 'sg-reconsented');
      reconsented = await h.gateway.engine.store.get(devConnection('sg-reconsented'));
    };
    await h.resetStats();
    offsetMs = 3601_000;
    const response = await sg('sg-reconsented');
    expect(beforeMarking).toBeUndefined(); // the race happened
    expect(reconsented?.tokens?.refreshToken).not.toBe(old.tokens!.refreshToken);
    expect(response.status).toBe(200);
    const stored = (await h.gateway.engine.store.get(devConnection('sg-reconsented')))!;
    expect(stored.status).toBe('active');
    expect(stored.reason).toBeUndefined();
    expect(stored.tokens?.refreshToken).toBe(reconsented!.tokens!.refreshToken);
    expect((await h.stats()).banks.sg.tokenErrors).toEqual({ invalid_grant: 1 });
    expect(h.logLines.some((l) => l.includes('token.refresh_superseded'))).toBe(true);
    expect(h.logLines.some((l) => l.includes('connection.reconsent_required') && l.includes('sg-reconsented'))).toBe(false);
  });

  it('without a re-consent, the refused grant is marked reconsent_required (409)', async () => {
    offsetMs = 0;
    await h.connect('sg', 'sg-refused');
    await revokeAtSg(h.sandbox, (await h.gateway.engine.store.get(devConnection('sg-refused')))!.tokens!.refreshToken!);
    offsetMs = 3601_000;
    const response = await sg('sg-refused');
    expect(response.status).toBe(409);
    expect((await response.json()) as { code: string }).toMatchObject({ code: 'reconsent_required' });
    expect((await h.gateway.engine.store.get(devConnection('sg-refused')))?.status).toBe('reconsent_required');
  });
});
