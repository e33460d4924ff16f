import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../plugin/index.js';
import { devConnection, problemOf, startHarness, type Harness } from './harness.js';

describe('client certificate problems are named, with the bank and the cause', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a client certificate the bank does not trust → 502 bank_tls_error naming the bank', async () => {
    h = await startHarness({
      adjust: (config, sandbox) => {
        config.banks.seb!.mtls = { ...config.banks.seb!.mtls, cert: { file: sandbox.untrustedClientCert.certFile }, key: { file: sandbox.untrustedClientCert.keyFile } };
      },
    });
    // SEB's resource server checks the QWAC at the handshake, before any token matters: a connection
    // with a stored (unchecked) token is enough to reach it.
    const created = await h.call('/connections', { method: 'POST', body: { bank: 'seb', connectionId: 'x' } });
    expect(created.status).toBe(201);
    await h.gateway.engine.store.put({ ...(await h.gateway.engine.store.get(devConnection('x')))!, status: 'active', tokens: { accessToken: 'a', refreshToken: 'r', expiresAt: Date.now() + 3_600_000, expiresIn: 3600 } });
    const response = await h.call('/seb/ais/accounts', { headers: { 'x-connection-id': 'x', 'psu-ip-address': '203.0.113.7' } });
    expect(response.status).toBe(502);
    const problem = await problemOf(response);
    expect(problem.code).toBe('bank_tls_error');
    expect(problem.bank).toBe('seb');
    expect(problem.detail).toMatch(/seb/);
    expect(problem.detail).toMatch(/certificate/i);
  });

  it('a missing client certificate is refused at start, naming the config path', async () => {
    await expect(
      startHarness({
        adjust: (config) => {
          config.banks.sg!.mtls = { ...config.banks.sg!.mtls, cert: { file: '/nonexistent/qwac.pem' } };
        },
      }),
    ).rejects.toSatisfy((error: unknown) => error instanceof ConfigError && error.problems.some((p) => p.includes('banks.sg.mtls.cert') && p.includes('not found')));
  });

  it('SG token endpoint with a certificate it does not know → 502 bank_auth_error invalid_client, naming sg', async () => {
    h = await startHarness({
      adjust: (config, sandbox) => {
        config.banks.sg!.mtls = { ...config.banks.sg!.mtls, cert: { file: sandbox.untrustedClientCert.certFile }, key: { file: sandbox.untrustedClientCert.keyFile } };
      },
    });
    // SG's token host asks for a certificate without failing the handshake, and answers invalid_client
    // (tls_client_auth: the subject does not match the registered client), as a real AS does.
    const payment = await h.call('/sg/pisp/payment-requests/abc');
    expect(payment.status).toBe(502);
    const problem = await problemOf(payment);
    expect(problem).toMatchObject({ code: 'bank_auth_error', bank: 'sg', oauthError: 'invalid_client' });
    expect(problem.detail).toMatch(/^bank sg refused the client credentials grant/);
    expect((await h.stats()).banks.sg.resourceCalls).toEqual({});
  });
});
