/**
 * The token side of certificate rotation: each token set records the thumbprint of the client certificate
 * its bank's transport presented when it was obtained; a set obtained under another thumbprint counts as
 * expired and is refreshed over the current certificate. Same for cached client-credentials tokens.
 * The transport here is the real one, wrapped so the test can say which thumbprint it presents now.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeBankTransport } from '../../plugin/adapter/node/transport/node-bank-transport.js';
import { devConnection, startVaultHarness, type VaultHarness } from './vault-harness.js';

describe('token sets bound to the client certificate they were obtained with', () => {
  let h: VaultHarness;
  let thumbprint = 'cert-A';
  beforeAll(async () => {
    h = await startVaultHarness({
      gateway: {
        transport: async (bank, context) => {
          const real = await nodeBankTransport(bank, context);
          return { send: real.send, fetch: real.fetch, close: real.close, clientCertificateThumbprint: () => (bank.name === 'sg' ? thumbprint : undefined) };
        },
      },
    });
    await h.connect('sg', 'sg-cert');
    await h.connect('seb', 'seb-cert');
  });
  afterAll(() => h?.close());

  const sg = () => h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': 'sg-cert' } });

  it('records the thumbprint on the stored token set', async () => {
    expect((await h.gateway.engine.store.get(devConnection('sg-cert')))!.tokens!.certificateThumbprint).toBe('cert-A');
    // A transport without a certificate of its own records nothing (and is judged by time alone).
    expect((await h.gateway.engine.store.get(devConnection('seb-cert')))!.tokens!.certificateThumbprint).toBeUndefined();
  });

  it('after the certificate changes, a fresh-looking token is refreshed once over the new certificate', async () => {
    await h.resetStats();
    expect((await sg()).status).toBe(200);
    expect((await h.stats()).banks.sg.tokenRequests.refresh_token).toBe(0);
    thumbprint = 'cert-B';
    expect((await Promise.all([sg(), sg(), sg()])).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await h.stats()).banks.sg.tokenRequests.refresh_token).toBe(1);
    expect((await h.gateway.engine.store.get(devConnection('sg-cert')))!.tokens!.certificateThumbprint).toBe('cert-B');
  });

  it('a cached client-credentials token is fetched again under a new certificate', async () => {
    const first = await h.gateway.engine.clientAccessToken('sg', ['pisp']);
    expect(await h.gateway.engine.clientAccessToken('sg', ['pisp'])).toBe(first);
    thumbprint = 'cert-C';
    const second = await h.gateway.engine.clientAccessToken('sg', ['pisp']);
    expect(second).not.toBe(first);
    expect(h.gateway.metrics.value('bankgate_token_client_credentials_total', { bank: 'sg', outcome: 'obtained' })).toBe(2);
  });

  it('counts refreshes in the injected registry, served at GET /metrics', async () => {
    const text = await (await h.call('/metrics')).text();
    expect(text).toMatch(/bankgate_token_refresh_total\{bank="sg",outcome="refreshed"\} 1/);
    expect(text).toContain('# TYPE bankgate_token_lock_wait_seconds histogram');
  });
});
